namespace CaptionImages;

/// <summary>Turns the command line's files and folders into the list of images to caption.</summary>
internal static class ImageInputs
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    /// <summary>
    /// Files as given; folders replaced by their image files sorted by name (not recursive). Adds a line to
    /// <paramref name="problems"/> for every path that does not exist or folder without images.
    /// </summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> inputs, List<string> problems)
    {
        var images = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                images.Add(input);
            }
            else if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input)
                    .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0) problems.Add($"the folder '{input}' has no .jpg, .jpeg or .png files");
                images.AddRange(found);
            }
            else
            {
                problems.Add($"'{input}' is neither an image file nor a folder");
            }
        }
        return images;
    }
}

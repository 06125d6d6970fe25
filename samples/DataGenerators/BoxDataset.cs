using System.Globalization;
using System.Text;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;

namespace DataGenerators;

/// <summary>
/// Writes a small object-box dataset: JPEG images of one coloured shape each (drawn by the synthetic captioned-image
/// generator, encoded with <see cref="JpegEncoder"/>) and a CSV <c>file,x,y,h,w</c> holding each shape's bounding box.
/// </summary>
internal static class BoxDataset
{
    /// <summary>Writes the images under <c>images/</c> and returns the path of <c>boxes.csv</c>.</summary>
    public static string Write(string folder, int imageCount, int imageSize)
    {
        var images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        var generator = new SyntheticCaptionedImages(new SyntheticDatasetOptions
        {
            ImageCount = imageCount, ImageSize = imageSize, MinObjectCount = 1, MaxObjectCount = 1, Seed = 11,
        });
        var csv = new StringBuilder("file,x,y,h,w\n");
        foreach (var (image, i) in generator.Describe().Select((image, i) => (image, i)))
        {
            var name = $"box_{i:D2}.jpg";
            using (var pixels = image.Scene.Render())
                JpegEncoder.Save(Path.Combine(images, name), pixels);
            var shape = image.Scene.Objects[0];
            csv.Append(CultureInfo.InvariantCulture,
                $"images/{name},{shape.CenterX - shape.Radius:F1},{shape.CenterY - shape.Radius:F1},{2 * shape.Radius:F1},{2 * shape.Radius:F1}\n");
        }

        // Written beside its final name, then renamed: a reader never sees half a file.
        var path = Path.Combine(folder, "boxes.csv");
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, csv.ToString());
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}

using System.Text;
using ImageCaptioning.IO;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Synthetic;

// Writing the dataset folder, and recognising one that is already complete.
public sealed partial class SyntheticCaptionedImages
{
    /// <summary>
    /// Writes the dataset under <paramref name="directory"/>: <c>Images/&lt;id&gt;.jpg</c>, <c>captions.txt</c>
    /// (Flickr8k's <c>image,caption</c> CSV) and, last, the manifest <c>synthetic.json</c>. Each file is written
    /// atomically. When the folder already holds a complete dataset of the same options nothing is written; a
    /// partial or different one is regenerated, and image files it listed that are no longer part of the dataset
    /// are removed. Other files in the folder are left alone.
    /// </summary>
    /// <param name="directory">The dataset root; created if missing.</param>
    /// <param name="logger">Receives a line saying whether the dataset was written or reused.</param>
    /// <param name="progress">Receives the number of images written so far, after each image.</param>
    /// <param name="cancellationToken">Stops between images; files written so far stay, but without a manifest.</param>
    /// <returns>The dataset's description and paths.</returns>
    public SyntheticDataset Generate(
        string directory, ILogger? logger = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        var described = Describe();
        var hash = Options.ComputeHash(GeneratorVersion);
        var manifestPath = Path.Combine(root, ManifestFileName);
        var previous = SyntheticManifest.TryRead(manifestPath);
        if (previous is not null && previous.OptionsHash == hash && previous.GeneratorVersion == GeneratorVersion && previous.IsCompleteIn(root))
        {
            logger?.LogInformation("Reusing the synthetic dataset of {Images} images in {Directory}", described.Count, root);
            return new SyntheticDataset(root, Options, described, reusedExisting: true);
        }

        var imagesDirectory = Path.Combine(root, ImagesFolderName);
        Directory.CreateDirectory(imagesDirectory);
        // From here until the new manifest is written the folder is incomplete, and must read as such if we stop.
        File.Delete(manifestPath);
        var files = new Dictionary<string, long>(described.Count + 1, StringComparer.Ordinal);
        for (var i = 0; i < described.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var image = described[i];
            byte[] encoded;
            using (var pixels = image.Scene.Render())
                encoded = JpegEncoder.Encode(pixels, Options.JpegQuality);
            AtomicFile.Write(Path.Combine(imagesDirectory, image.ImageId), stream => stream.Write(encoded));
            files.Add($"{ImagesFolderName}/{image.ImageId}", encoded.Length);
            progress?.Report(i + 1);
        }

        var captions = Encoding.UTF8.GetBytes(CaptionsCsv(described));
        AtomicFile.Write(Path.Combine(root, CaptionsFileName), stream => stream.Write(captions));
        files.Add(CaptionsFileName, captions.Length);

        RemoveStaleImages(root, previous, files);
        new SyntheticManifest(GeneratorVersion, hash, described.Count, files).Write(manifestPath);
        logger?.LogInformation("Generated {Images} synthetic images with {Captions} captions each in {Directory}", described.Count, Options.CaptionsPerImage, root);
        return new SyntheticDataset(root, Options, described, reusedExisting: false);
    }

    /// <summary>Flickr8k's layout: the header <c>image,caption</c>, then one record per caption, quoted when needed.</summary>
    private static string CaptionsCsv(IReadOnlyList<SyntheticImage> images)
    {
        var csv = new StringBuilder("image,caption\n");
        foreach (var image in images)
            foreach (var caption in image.Captions)
                csv.Append(CsvField(image.ImageId)).Append(',').Append(CsvField(caption)).Append('\n');
        return csv.ToString();
    }

    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1])))
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;

    // Only files the previous manifest says we wrote are removed: the folder may hold the user's own files.
    private static void RemoveStaleImages(string root, SyntheticManifest? previous, Dictionary<string, long> current)
    {
        if (previous?.Files is null) return;
        foreach (var relative in previous.Files.Keys)
        {
            if (current.ContainsKey(relative)) continue;
            if (SyntheticManifest.TryResolve(root, relative) is { } path) File.Delete(path);
        }
    }
}

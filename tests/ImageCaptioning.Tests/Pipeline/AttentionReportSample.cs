using ImageCaptioning.Evaluation;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>One image of <see cref="AttentionReportSample"/>: its id, file, pixel size, generated caption and attention.</summary>
internal sealed record SampleReportImage(string Id, string File, int Width, int Height, string Caption, CaptionAttention? Attention);

/// <summary>
/// A report over small JPEG files written for the test: images of different sizes and grids, a file name that needs
/// URL escaping, an id and words that are HTML markup, and an image without attention.
/// </summary>
internal static class AttentionReportSample
{
    /// <summary>What a hostile image id, word or caption would run if it were not escaped: it renames the page.</summary>
    public const string Script = "<script>document.title='pwned'</script>";

    /// <summary>An element whose handler would run if it were not escaped.</summary>
    public const string Markup = "<img src=x onerror=\"document.title='pwned'\">";

    /// <summary>The page's title.</summary>
    public const string Title = "Attention & <b>report</b>";

    /// <summary>Writes the images into <paramref name="folder"/>/images and the report to <paramref name="folder"/>/report.html.</summary>
    /// <returns>The report's path and its images, in page order.</returns>
    public static (string Report, IReadOnlyList<SampleReportImage> Images) Write(string folder)
    {
        var images = new[]
        {
            Image("red square", "red.jpg", 48, 32, "a red square", 2, 3, seed: 1),
            Image("two words", "two words.jpg", 40, 24, "two words", 4, 4, seed: 2),
            Image(Script, "plain.jpg", 32, 32, Markup, 1, 2, seed: 3, words: [Script, Markup]),
            new SampleReportImage("no attention", "none.jpg", 24, 24, "no attention here", null),
        };
        var imageFolder = Path.Combine(folder, "images");
        foreach (var (image, i) in images.Select((image, i) => (image, i)))
        {
            using var pixels = Pattern(image.Width, image.Height, i);
            JpegEncoder.Save(Path.Combine(imageFolder, image.File), pixels);
        }

        var result = CaptionMetrics.Evaluate(images.Select(image =>
            (image.Id, image.Caption, (IReadOnlyList<string>)[image.Caption, "a picture of " + image.Id])));
        var report = Path.Combine(folder, "report.html");
        HtmlReport.Write(report, Title, result, images.Length, id => Path.Combine(imageFolder, images.Single(i => i.Id == id).File),
            id => images.Single(i => i.Id == id).Attention);
        return (report, images);
    }

    /// <summary>The grid cell with the largest weight of word <paramref name="word"/> (unique by construction).</summary>
    public static int Peak(CaptionAttention attention, int word)
    {
        var weights = attention.Weights[word];
        return Enumerable.Range(0, weights.Count).MaxBy(c => weights[c]);
    }

    private static SampleReportImage Image(string id, string file, int width, int height, string caption, int rows, int columns, int seed,
        string[]? words = null)
    {
        words ??= caption.Split(' ');
        var cells = rows * columns;
        // A distinct peak cell per word, well above the rest, and a softmax-like total of 1.
        var weights = words.Select((_, w) =>
        {
            var raw = Enumerable.Range(0, cells).Select(c => 1f + (c * 7 + w * 3 + seed) % 5).ToArray();
            raw[(w * 5 + seed) % cells] = 20f;
            var sum = raw.Sum();
            return raw.Select(v => v / sum).ToArray();
        }).ToArray();
        return new SampleReportImage(id, file, width, height, caption, new CaptionAttention(words, rows, columns, weights));
    }

    // Green and blue gradients, in a different direction per image, so a screenshot of the page is anything but flat
    // and any strongly red pixel in it is the attention overlay's.
    private static RgbImage Pattern(int width, int height, int index)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var at = (y * width + x) * 3;
                pixels[at + 1 + index % 2] = (byte)(255 * x / (width - 1));
                pixels[at + 2 - index % 2] = (byte)(255 * y / (height - 1));
            }
        return RgbImage.FromPixels(width, height, pixels);
    }
}

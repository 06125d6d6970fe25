using System.Text;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Data;
using ImageCaptioning.Text;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

/// <summary>
/// Bytes that are not valid UTF-8 (here "café" saved as Latin-1, a lone 0xE9) stop every caption reader with the file,
/// line and byte offset; only <see cref="InvalidTextHandling.Replace"/> lets them through, counted in a warning.
/// </summary>
public sealed class CaptionReaderInvalidTextTests
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private TempDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TempDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    /// <summary>Each reader with a file whose line 3 holds "café" in Latin-1, and how the file's text starts before that byte.</summary>
    private static IEnumerable<TestCaseData> Readers()
    {
        yield return Case("captions.txt", "image,caption\na.jpg,A dog runs .\nb.jpg,A caf\u00e9 by the sea .\n", p => CaptionReader.ReadFlickr8kCsv(p).Entries().Count());
        yield return Case("Flickr8k.token.txt", "a.jpg#0\tA dog runs .\r\na.jpg#1\tA dog .\r\nb.jpg#0\tA caf\u00e9 by the sea .\r\n",
            p => CaptionReader.ReadFlickr8kTokens(p).Entries().Count());
        yield return Case("Flickr_8k.trainImages.txt", "a.jpg\nb.jpg\ncaf\u00e9.jpg\n", p => CaptionReader.ReadImageList(p).Count);
        yield return Case("captions_train.json", "{\"images\": [{\"id\": 1, \"file_name\": \"b.jpg\"}],\n \"annotations\": [\n" +
            "  {\"image_id\": 1, \"caption\": \"A caf\u00e9 by the sea .\"}]}", p => CaptionReader.ReadCoco(p).Entries().Count());
        yield return Case("dataset_flickr8k.json", "{\"images\": [\n  {\"filename\": \"b.jpg\", \"split\": \"train\",\n" +
            "   \"sentences\": [{\"raw\": \"A caf\u00e9 by the sea .\"}]}]}", p => CaptionReader.ReadKarpathy(p).Corpus.Entries().Count());

        static TestCaseData Case(string name, string text, Func<string, int> read) => new TestCaseData(name, text, read).SetArgDisplayNames(name);
    }

    [TestCaseSource(nameof(Readers))]
    public void InvalidUtf8IsAnErrorNamingTheFileLineAndByteOffset(string name, string text, Func<string, int> read)
    {
        var path = directory.File(name);
        File.WriteAllBytes(path, Latin1.GetBytes(text));
        var offset = text.IndexOf('\u00e9');

        var error = Assert.Throws<CaptionFormatException>(() => read(path));

        Assert.That(error!.FilePath, Is.EqualTo(path));
        Assert.That(error.LineNumber, Is.EqualTo(3));
        Assert.That(error.Message, Does.StartWith($"{path}(3): invalid UTF-8 at byte offset {offset} (0xE9)"));
        Assert.That(error.Message, Does.Contain("InvalidTextHandling.Replace"), "says how to read the file anyway");
    }

    [TestCaseSource(nameof(Readers))]
    public void ReplaceReadsTheFileAndCountsTheReplacementsInAWarning(string name, string text, Func<string, int> read)
    {
        var path = directory.File(name);
        File.WriteAllBytes(path, Latin1.GetBytes(text.Replace("by the sea", "by the s\u00e9a", StringComparison.Ordinal)));
        var logger = new ListLogger();
        var replace = new CaptionReaderOptions { InvalidText = InvalidTextHandling.Replace };

        var text2 = Read(name, path, replace, logger);

        Assert.That(text2, Does.Contain("caf\uFFFD"));
        var warning = logger.Entries.Single();
        Assert.That(warning.Level, Is.EqualTo(LogLevel.Warning));
        var expectedCount = name.Contains("trainImages", StringComparison.Ordinal) ? 1 : 2;
        Assert.That(warning.Message, Does.Contain($"{path}: replaced {expectedCount} invalid UTF-8 sequence(s) with U+FFFD, the first at line 3"));
        Assert.Throws<CaptionFormatException>(() => read(path), "without the option the same file is an error");
    }

    [Test]
    public void ValidUtf8WithMultiByteLettersReadsAsWritten()
    {
        var path = directory.File("captions.txt");
        File.WriteAllText(path, "image,caption\nb.jpg,A caf\u00e9 by the sea .\n", new UTF8Encoding(false));

        Assert.That(CaptionReader.ReadFlickr8kCsv(path)["b.jpg"], Is.EqualTo(new[] { "A caf\u00e9 by the sea ." }));
    }

    [Test]
    public void AUtf16FileWithItsByteOrderMarkReadsAndAnUnpairedSurrogateIsAnError()
    {
        var path = directory.File("captions.txt");
        File.WriteAllText(path, "image,caption\r\nb.jpg,A caf\u00e9 .\r\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: true));
        Assert.That(CaptionReader.ReadFlickr8kCsv(path)["b.jpg"], Is.EqualTo(new[] { "A caf\u00e9 ." }));

        var bytes = File.ReadAllBytes(path).ToList();
        bytes.AddRange([0x00, 0xD8, (byte)'x', 0x00]); // a high surrogate followed by "x"
        File.WriteAllBytes(path, [.. bytes]);

        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadFlickr8kCsv(path));
        Assert.That(error!.LineNumber, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain("invalid UTF-16 at byte offset"));
    }

    private static string Read(string name, string path, CaptionReaderOptions options, ILogger logger) => name switch
    {
        "captions.txt" => string.Join("|", CaptionReader.ReadFlickr8kCsv(path, options, logger).Entries().Select(e => e.Caption)),
        "Flickr8k.token.txt" => string.Join("|", CaptionReader.ReadFlickr8kTokens(path, options, logger).Entries().Select(e => e.Caption)),
        "Flickr_8k.trainImages.txt" => string.Join("|", CaptionReader.ReadImageList(path, options, logger)),
        "captions_train.json" => string.Join("|", CaptionReader.ReadCoco(path, options, logger).Entries().Select(e => e.Caption)),
        _ => string.Join("|", CaptionReader.ReadKarpathy(path, options, logger).Corpus.Entries().Select(e => e.Caption)),
    };
}

using System.Text;
using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

/// <summary>
/// Damaged caption files of each format the readers take. Caption files carry no checksum, so a flipped letter is a
/// different caption (counted, not failed); what must hold is that every file reads or fails with a
/// <see cref="CaptionFormatException"/> naming it (or <see cref="FileNotFoundException"/>), and that nothing read holds
/// a control character, which cleaning would turn into a silently cut word.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class CaptionFileFuzzTests
{
    private static readonly string[] Captions = ["A dog runs on the grass .", "Two children, a ball & a \"red\" kite", "Café au lait — on a table", "a  man\tin a hat"];

    public static IEnumerable<TestCaseData> Formats()
    {
        var images = Enumerable.Range(0, 6).Select(i => $"img_{i}.jpg").ToArray();
        var pairs = images.SelectMany((image, i) => Captions.Select((c, k) => (Image: image, Caption: $"{c} {i}{k}"))).ToArray();
        yield return Format("captions.txt", "image,caption\n" + string.Concat(pairs.Select(p => $"{p.Image},\"{p.Caption.Replace("\"", "\"\"", StringComparison.Ordinal)}\"\n")), CaptionReader.ReadFlickr8kCsv);
        yield return Format("Flickr8k.token.txt", string.Concat(pairs.Select((p, i) => $"{p.Image}#{i % Captions.Length}\t{p.Caption}\n")), CaptionReader.ReadFlickr8kTokens);
        yield return Format("captions.json", "{\"images\": [" + string.Join(",", images.Select((image, i) => $"{{\"id\": {i}, \"file_name\": \"{image}\"}}")) + "],\n\"annotations\": [" +
            string.Join(",\n", pairs.Select((p, i) => $"{{\"image_id\": {Array.IndexOf(images, p.Image)}, \"id\": {i}, \"caption\": {System.Text.Json.JsonSerializer.Serialize(p.Caption)}}}")) + "]}", CaptionReader.ReadCoco);
        yield return Format("dataset.json", "{\"images\": [\n" + string.Join(",\n", images.Select(image => $"{{\"filename\": \"{image}\", \"split\": \"train\", \"sentences\": [" +
            string.Join(", ", pairs.Where(p => p.Image == image).Select(p => $"{{\"raw\": {System.Text.Json.JsonSerializer.Serialize(p.Caption)}}}")) + "]}")) + "]}", (p, o, l) => CaptionReader.ReadKarpathy(p, o, l).Corpus);
    }

    private static TestCaseData Format(string file, string text, Func<string, CaptionReaderOptions?, Microsoft.Extensions.Logging.ILogger?, CaptionCorpus> read) =>
        new TestCaseData(file, Encoding.UTF8.GetBytes(text), (Func<string, CaptionCorpus>)(path => read(path, null, null))).SetArgDisplayNames(file);

    [TestCaseSource(nameof(Formats))]
    public void DamagedCaptionFilesReadOrFailNamingTheFile(string file, byte[] original, Func<string, CaptionCorpus> read)
    {
        using var dir = new TempDirectory();
        var path = dir.File(file);
        File.WriteAllBytes(path, original);
        var expected = read(path).Entries().ToList();
        Assert.That(expected, Has.Count.EqualTo(24));

        var tally = new FuzzTally($"captions {file}");
        foreach (var fuzzCase in FileMutations.Cases(original, FuzzSettings.CasesPerKind, FuzzSettings.Seed + file.Length))
        {
            File.WriteAllBytes(path, fuzzCase.Bytes);
            tally.Run(fuzzCase, _ =>
            {
                try
                {
                    var entries = read(path).Entries().ToList();
                    foreach (var (image, caption) in entries)
                        Assert.That((image + caption).Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')), Is.False, $"{fuzzCase}: a control character reached image '{image}': '{caption}'");
                    return entries.SequenceEqual(expected) ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent;
                }
                catch (CaptionFormatException e) when (e.FilePath != path)
                {
                    Assert.Fail($"{fuzzCase}: the error names {e.FilePath}, not {path}");
                    throw;
                }
            }, [typeof(CaptionFormatException)]);
        }
        tally.Report();
        Assert.That(tally[FuzzOutcome.CleanError], Is.GreaterThan(0));
    }
}

using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

// Karpathy splits: images[].filename/split/sentences[].raw.
public static partial class CaptionReader
{
    /// <summary>
    /// Reads a Karpathy split file (<c>dataset_flickr8k.json</c>, <c>dataset_coco.json</c>): images are identified by
    /// <c>filename</c>, and each keeps its <c>sentences[].raw</c> captions and its <c>split</c>.
    /// </summary>
    public static KarpathySplits ReadKarpathy(string path, CaptionReaderOptions? options = null, ILogger? logger = null)
    {
        var file = JsonCaptionFile.Open(path, options, logger);
        var entries = new List<ImageCaption>();
        var splitOf = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var reader = file.CreateReader();
            file.Expect(ref reader, JsonTokenType.StartObject, "a JSON object with 'images'");
            var sawImages = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.GetString() != "images")
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                sawImages = true;
                ReadObjects(file, ref reader, "images", (ref Utf8JsonReader r, long offset) =>
                {
                    var (fileName, split, sentences) = ReadKarpathyImage(file, ref r, offset);
                    if (!splitOf.TryAdd(fileName, split))
                        throw file.Error(offset, $"image '{fileName}' appears twice");
                    entries.AddRange(sentences.Select(raw => new ImageCaption(fileName, raw)));
                });
            }
            if (!sawImages) throw file.Error(0, "the file has no 'images' array");
        }
        catch (JsonException exception)
        {
            throw file.SyntaxError(exception);
        }
        return new KarpathySplits(CaptionCorpus.Create(entries), splitOf);
    }

    private static (string FileName, string Split, List<string> Sentences) ReadKarpathyImage(JsonCaptionFile file, ref Utf8JsonReader reader, long offset)
    {
        string? fileName = null, split = null;
        List<string>? sentences = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            switch (reader.GetString())
            {
                case "filename": fileName = file.ReadString(ref reader, "filename"); break;
                case "split": split = file.ReadString(ref reader, "split"); break;
                case "sentences":
                    var list = sentences = [];
                    ReadObjects(file, ref reader, "sentences", (ref Utf8JsonReader r, long sentenceOffset) =>
                        list.Add(ReadRawSentence(file, ref r, sentenceOffset)));
                    break;
                default: reader.Read(); reader.Skip(); break;
            }
        }
        if (string.IsNullOrEmpty(fileName)) throw file.Error(offset, "an image has no 'filename'");
        if (string.IsNullOrEmpty(split)) throw file.Error(offset, $"image '{fileName}' has no 'split'");
        if (sentences is null) throw file.Error(offset, $"image '{fileName}' has no 'sentences'");
        return (fileName, split, sentences);
    }

    private static string ReadRawSentence(JsonCaptionFile file, ref Utf8JsonReader reader, long offset)
    {
        string? raw = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.GetString() == "raw") raw = file.ReadString(ref reader, "raw");
            else { reader.Read(); reader.Skip(); }
        }
        return raw ?? throw file.Error(offset, "a sentence has no 'raw' text");
    }
}

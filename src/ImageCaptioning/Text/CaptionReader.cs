using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

/// <summary>
/// Reads the caption files of Flickr8k, COCO and the Karpathy splits into a <see cref="CaptionCorpus"/>. Every
/// malformed record raises a <see cref="CaptionFormatException"/> naming the file and line, and so do bytes that are
/// not valid UTF-8 (with the byte offset), unless <see cref="CaptionReaderOptions.InvalidText"/> says to replace them;
/// the replacements are then counted in a warning to the logger.
/// </summary>
public static partial class CaptionReader
{
    private static string ReadAllText(string path, CaptionReaderOptions? options, ILogger? logger)
    {
        EnsureExists(path);
        return CaptionFileText.Read(path, options, logger);
    }

    private static void EnsureExists(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"caption file '{path}' does not exist", path);
    }

    /// <summary>Splits text into lines, accepting LF, CRLF and lone CR, with 1-based line numbers.</summary>
    private static IEnumerable<(int Number, string Text)> Lines(string text)
    {
        var number = 0;
        var start = 0;
        while (start < text.Length)
        {
            number++;
            var end = text.IndexOfAny(['\r', '\n'], start);
            if (end < 0)
            {
                yield return (number, text[start..]);
                yield break;
            }
            yield return (number, text[start..end]);
            start = end + (text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1);
        }
    }
}

using System.Globalization;
using ImageCaptioning.IO;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

// Flickr8k: the Kaggle captions.txt (CSV) and the original Flickr8k.token.txt plus split lists.
public static partial class CaptionReader
{
    /// <summary>
    /// Reads Flickr8k's <c>captions.txt</c>: a CSV file with the header <c>image,caption</c>. Fields follow RFC 4180
    /// (quotes, doubled quotes, line breaks inside quotes); an unquoted caption runs to the end of its line, commas
    /// included, since the image column never holds one. A UTF-8 byte-order mark and CRLF line ends are accepted.
    /// </summary>
    public static CaptionCorpus ReadFlickr8kCsv(string path, CaptionReaderOptions? options = null, ILogger? logger = null)
    {
        var text = ReadAllText(path, options, logger);
        var csv = new CsvReader(text);
        if (csv.AtEnd)
            throw new CaptionFormatException(path, 1, "the file is empty; expected the header 'image,caption'");
        if (!TryReadHeader(csv, "image", "caption"))
        {
            var end = text.AsSpan().IndexOfAny('\r', '\n');
            throw new CaptionFormatException(path, 1, $"expected the header 'image,caption' but found '{(end < 0 ? text : text[..end])}'");
        }

        var entries = new List<ImageCaption>();
        try
        {
            while (!csv.AtEnd)
            {
                if (csv.SkipBlankLine()) continue;
                var line = csv.Line;
                var image = csv.ReadField().Trim();
                if (!csv.TryReadDelimiter())
                    throw new CaptionFormatException(path, line, "expected two columns 'image,caption' but the record has one");
                var captionLine = csv.Line;
                // The image column never holds a comma, so an unquoted caption may: it runs to the end of its line.
                var caption = csv.ReadField(toEndOfLine: true);
                if (!csv.TryEndRecord())
                    throw new CaptionFormatException(path, captionLine, $"unexpected '{(char)csv.Peek()}' after the closing quote of the last column");
                if (image.Length == 0)
                    throw new CaptionFormatException(path, line, "the image column is empty");
                entries.Add(new ImageCaption(image, caption));
            }
        }
        catch (CsvFormatException exception)
        {
            throw new CaptionFormatException(path, exception.LineNumber, exception.Reason, exception);
        }
        return CaptionCorpus.Create(entries);
    }

    /// <summary>
    /// Reads the original <c>Flickr8k.token.txt</c>: one caption per line as <c>name.jpg#k&lt;TAB&gt;caption</c>.
    /// </summary>
    public static CaptionCorpus ReadFlickr8kTokens(string path, CaptionReaderOptions? options = null, ILogger? logger = null)
    {
        var entries = new List<ImageCaption>();
        foreach (var (number, line) in Lines(ReadAllText(path, options, logger)))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var tab = line.IndexOf('\t');
            if (tab < 0)
                throw new CaptionFormatException(path, number, "expected 'name.jpg#k<TAB>caption' but the line has no tab");
            var key = line[..tab].Trim();
            var hash = key.LastIndexOf('#');
            if (hash <= 0 || !int.TryParse(key.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                throw new CaptionFormatException(path, number, $"expected 'name.jpg#k' before the tab but found '{key}'");
            entries.Add(new ImageCaption(key[..hash], line[(tab + 1)..]));
        }
        return CaptionCorpus.Create(entries);
    }

    /// <summary>
    /// Reads an image list such as <c>Flickr_8k.trainImages.txt</c>: one image file name per line; blank lines are
    /// ignored and a name listed twice is an error.
    /// </summary>
    public static IReadOnlyList<string> ReadImageList(string path, CaptionReaderOptions? options = null, ILogger? logger = null)
    {
        var names = new List<string>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (number, line) in Lines(ReadAllText(path, options, logger)))
        {
            var name = line.Trim();
            if (name.Length == 0) continue;
            if (name.Contains('\t') || name.Contains(','))
                throw new CaptionFormatException(path, number, $"expected one image name per line but found '{name}'");
            if (!firstLine.TryAdd(name, number))
                throw new CaptionFormatException(path, number, $"image '{name}' is already listed on line {firstLine[name]}");
            names.Add(name);
        }
        return names;
    }

    /// <summary>Reads the header record: the two column names, in any letter case; false for anything else.</summary>
    private static bool TryReadHeader(CsvReader csv, string first, string second)
    {
        try
        {
            return IsHeader(csv.ReadField(), first) && csv.TryReadDelimiter()
                && IsHeader(csv.ReadField(toEndOfLine: true), second) && csv.TryEndRecord();
        }
        catch (CsvFormatException)
        {
            return false;
        }
    }

    private static bool IsHeader(string field, string expected) =>
        string.Equals(field.Trim(), expected, StringComparison.OrdinalIgnoreCase);
}

using System.Globalization;
using System.Text;
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
        var cursor = new CsvCursor(path, text);
        if (cursor.AtEnd)
            throw new CaptionFormatException(path, 1, "the file is empty; expected the header 'image,caption'");
        if (!cursor.TryReadHeader("image", "caption"))
        {
            var end = text.AsSpan().IndexOfAny('\r', '\n');
            throw new CaptionFormatException(path, 1, $"expected the header 'image,caption' but found '{(end < 0 ? text : text[..end])}'");
        }

        var entries = new List<ImageCaption>();
        while (!cursor.AtEnd)
        {
            if (cursor.SkipBlankLine()) continue;
            var line = cursor.Line;
            var image = cursor.ReadField(lastColumn: false).Trim();
            var caption = cursor.ReadField(lastColumn: true);
            if (image.Length == 0)
                throw new CaptionFormatException(path, line, "the image column is empty");
            entries.Add(new ImageCaption(image, caption));
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

    private static bool IsHeader(string field, string expected) =>
        string.Equals(field.Trim(), expected, StringComparison.OrdinalIgnoreCase);

    /// <summary>A position in CSV text that reads two-column records and tracks the line number.</summary>
    private sealed class CsvCursor(string path, string text)
    {
        private int position;

        public int Line { get; private set; } = 1;

        public bool AtEnd => position >= text.Length;

        public bool TryReadHeader(string first, string second)
        {
            try
            {
                return IsHeader(ReadField(lastColumn: false), first) && IsHeader(ReadField(lastColumn: true), second);
            }
            catch (CaptionFormatException)
            {
                return false;
            }
        }

        public bool SkipBlankLine()
        {
            if (text[position] is not ('\r' or '\n')) return false;
            EndRecord();
            return true;
        }

        /// <summary>Reads one field and the separator after it: a comma, or the end of the record for the last column.</summary>
        public string ReadField(bool lastColumn)
        {
            var recordLine = Line;
            string value;
            if (!AtEnd && text[position] == '"')
            {
                value = ReadQuoted(recordLine);
            }
            else
            {
                var end = position;
                while (end < text.Length && text[end] is not ('\r' or '\n') && (lastColumn || text[end] != ','))
                    end++;
                value = text[position..end];
                position = end;
            }

            if (lastColumn)
            {
                if (!AtEnd && text[position] is not ('\r' or '\n'))
                    throw new CaptionFormatException(path, recordLine, $"unexpected '{text[position]}' after the closing quote of the last column");
                EndRecord();
            }
            else
            {
                if (AtEnd || text[position] != ',')
                    throw new CaptionFormatException(path, recordLine, "expected two columns 'image,caption' but the record has one");
                position++;
            }
            return value;
        }

        private string ReadQuoted(int recordLine)
        {
            var builder = new StringBuilder();
            position++;
            while (true)
            {
                if (AtEnd)
                    throw new CaptionFormatException(path, recordLine, "a quoted field is not closed before the end of the file");
                var c = text[position++];
                if (c == '"')
                {
                    if (!AtEnd && text[position] == '"')
                    {
                        builder.Append('"');
                        position++;
                        continue;
                    }
                    return builder.ToString();
                }
                if (c == '\n' || (c == '\r' && (AtEnd || text[position] != '\n'))) Line++;
                builder.Append(c);
            }
        }

        private void EndRecord()
        {
            if (AtEnd) return;
            if (text[position] == '\r') position++;
            if (!AtEnd && text[position] == '\n') position++;
            Line++;
        }
    }
}

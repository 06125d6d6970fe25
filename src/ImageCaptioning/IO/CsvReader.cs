using System.Text;

namespace ImageCaptioning.IO;

/// <summary>
/// Reads CSV text as RFC 4180 describes it, field by field or record by record, and keeps the line number for error
/// messages. A field that starts with a double quote is quoted: it may hold delimiters, line breaks and doubled
/// quotes, and ends at the next single quote. Records end at CRLF, LF or CR.
/// </summary>
/// <param name="text">The whole CSV text (a byte-order mark already removed).</param>
/// <param name="delimiter">The field separator.</param>
public sealed class CsvReader(string text, char delimiter = ',')
{
    private readonly string text = text ?? throw new ArgumentNullException(nameof(text));
    private int position;

    /// <summary>The field separator.</summary>
    public char Delimiter { get; } = delimiter;

    /// <summary>The 1-based line the next field starts on.</summary>
    public int Line { get; private set; } = 1;

    /// <summary>Whether the whole text has been read.</summary>
    public bool AtEnd => position >= text.Length;

    /// <summary>Whether the reader stands at a line break or at the end of the text, where a record ends.</summary>
    public bool AtRecordEnd => AtEnd || text[position] is '\r' or '\n';

    /// <summary>The next character without reading it, or -1 at the end of the text (as <see cref="TextReader.Peek"/>).</summary>
    public int Peek() => AtEnd ? -1 : text[position];

    /// <summary>
    /// The remaining records, with the line each starts on; blank lines are skipped. The fields of a record are
    /// returned as written, without trimming.
    /// </summary>
    /// <exception cref="CsvFormatException">A quoted field is not closed, or is followed by something other than a delimiter or a line break.</exception>
    public IEnumerable<(int Line, string[] Fields)> ReadRecords()
    {
        while (!AtEnd)
        {
            if (SkipBlankLine()) continue;
            var line = Line;
            yield return (line, ReadRecord());
        }
    }

    /// <summary>Reads the fields up to the end of the current record, and the line break after it.</summary>
    /// <exception cref="CsvFormatException">A quoted field is not closed, or is followed by something other than a delimiter or a line break.</exception>
    public string[] ReadRecord()
    {
        var fields = new List<string>();
        while (true)
        {
            var fieldLine = Line;
            fields.Add(ReadField());
            if (TryReadDelimiter()) continue;
            if (!TryEndRecord())
                throw new CsvFormatException(fieldLine, $"unexpected '{(char)Peek()}' after the closing quote of a field");
            return [.. fields];
        }
    }

    /// <summary>Reads a line break if the reader stands at an empty line.</summary>
    /// <returns>Whether a blank line was skipped.</returns>
    public bool SkipBlankLine()
    {
        if (AtEnd || text[position] is not ('\r' or '\n')) return false;
        EndRecord();
        return true;
    }

    /// <summary>
    /// Reads one field, stopping before the delimiter or line break after it (or, after a quoted field, whatever
    /// follows the closing quote). An unquoted field with <paramref name="toEndOfLine"/> runs to the end of its line,
    /// delimiters included: for a last column that may hold them unquoted.
    /// </summary>
    /// <exception cref="CsvFormatException">A quoted field is not closed before the end of the text.</exception>
    public string ReadField(bool toEndOfLine = false)
    {
        if (!AtEnd && text[position] == '"') return ReadQuoted();
        var end = position;
        while (end < text.Length && text[end] is not ('\r' or '\n') && (toEndOfLine || text[end] != Delimiter))
            end++;
        var value = text[position..end];
        position = end;
        return value;
    }

    /// <summary>Reads the delimiter if it is the next character.</summary>
    /// <returns>Whether a delimiter was read: another field of the same record follows.</returns>
    public bool TryReadDelimiter()
    {
        if (AtEnd || text[position] != Delimiter) return false;
        position++;
        return true;
    }

    /// <summary>Reads the line break (if any) that ends the current record.</summary>
    /// <returns>Whether the reader stood at the end of a record; when not, nothing is read.</returns>
    public bool TryEndRecord()
    {
        if (!AtRecordEnd) return false;
        EndRecord();
        return true;
    }

    private string ReadQuoted()
    {
        var fieldLine = Line;
        var builder = new StringBuilder();
        position++;
        while (true)
        {
            if (AtEnd)
                throw new CsvFormatException(fieldLine, "a quoted field is not closed before the end of the file");
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

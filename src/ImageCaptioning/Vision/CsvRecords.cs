using System.Text;

namespace ImageCaptioning.Vision;

/// <summary>
/// A small RFC 4180 reader (quoted fields, doubled quotes, CRLF or LF) that keeps each record's starting line
/// number for error messages.
/// </summary>
internal static class CsvRecords
{
    public static IEnumerable<(int Line, string[] Fields)> Read(TextReader reader, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var recordLine = 1;
        var inQuotes = false;
        var atFieldStart = true;   // a quote only opens a quoted field as its first character
        var recordStarted = false; // distinguishes a blank line from a record of empty fields
        int c;
        while ((c = reader.Read()) != -1)
        {
            var ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }

                continue;
            }

            if (ch == '"' && atFieldStart)
            {
                inQuotes = true;
                atFieldStart = false;
                recordStarted = true;
            }
            else if (ch == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
                atFieldStart = true;
                recordStarted = true;
            }
            else if (ch == '\r' && reader.Peek() == '\n')
            {
                // CRLF: the LF ends the record.
            }
            else if (ch == '\n')
            {
                if (recordStarted)
                {
                    fields.Add(field.ToString());
                    yield return (recordLine, fields.ToArray());
                }

                fields.Clear();
                field.Clear();
                atFieldStart = true;
                recordStarted = false;
                line++;
                recordLine = line;
            }
            else
            {
                field.Append(ch);
                atFieldStart = false;
                recordStarted = true;
            }
        }

        if (inQuotes) throw new InvalidDataException($"line {recordLine}: a quoted field is not closed before the end of the file");
        if (recordStarted)
        {
            fields.Add(field.ToString());
            yield return (recordLine, fields.ToArray());
        }
    }
}

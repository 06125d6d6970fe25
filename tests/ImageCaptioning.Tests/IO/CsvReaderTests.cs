using ImageCaptioning.IO;
using NUnit.Framework;

namespace ImageCaptioning.Tests.IO;

[TestFixture]
public sealed class CsvReaderTests
{
    [Test]
    public void Quoted_fields_may_hold_delimiters_quotes_and_newlines()
    {
        var records = new CsvReader("a,\"b,\"\"c\"\"\nd\",e\r\n\r\nf,g").ReadRecords().ToList();

        Assert.That(records.Select(r => r.Line), Is.EqualTo(new[] { 1, 4 }), "each record's first line; blank lines are skipped");
        Assert.That(records[0].Fields, Is.EqualTo(new[] { "a", "b,\"c\"\nd", "e" }));
        Assert.That(records[1].Fields, Is.EqualTo(new[] { "f", "g" }));
    }

    [Test]
    public void Another_delimiter_and_empty_fields()
    {
        var records = new CsvReader("a;;\"\"\n;\n", ';').ReadRecords().Select(r => r.Fields).ToList();

        Assert.That(records, Is.EqualTo(new[] { new[] { "a", "", "" }, new[] { "", "" } }));
    }

    [Test]
    public void A_last_column_read_to_the_end_of_its_line_keeps_its_delimiters()
    {
        var csv = new CsvReader("a.jpg,one, two\nb.jpg,\"three\"\n");

        Assert.That((csv.ReadField(), csv.TryReadDelimiter(), csv.ReadField(toEndOfLine: true), csv.TryEndRecord()), Is.EqualTo(("a.jpg", true, "one, two", true)));
        Assert.That((csv.Line, csv.ReadField(), csv.TryReadDelimiter(), csv.ReadField(toEndOfLine: true), csv.TryEndRecord()), Is.EqualTo((2, "b.jpg", true, "three", true)));
        Assert.That(csv.AtEnd, Is.True);
    }

    [TestCase("a,\"b\nc", 1, "a quoted field is not closed before the end of the file")]
    [TestCase("a\n\"b\" c,d\n", 2, "unexpected ' ' after the closing quote of a field")]
    public void Malformed_text_names_the_line_where_the_field_starts(string text, int line, string reason)
    {
        var exception = Assert.Throws<CsvFormatException>(() => new CsvReader(text).ReadRecords().ToList())!;

        Assert.That((exception.LineNumber, exception.Reason, exception.Message), Is.EqualTo((line, reason, $"line {line}: {reason}")));
    }
}

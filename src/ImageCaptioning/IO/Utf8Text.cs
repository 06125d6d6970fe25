using System.Text;

namespace ImageCaptioning.IO;

/// <summary>
/// Text files written by other tools (a checkpoint's vocabularies, merges and settings), read as UTF-8 and nothing
/// else, as Python's <c>open(path, encoding="utf-8")</c> reads them: an invalid byte is an error naming the file, the
/// line and the byte, never a U+FFFD that the tokenizer would take for another token or that a JSON string would
/// carry into a setting.
/// </summary>
internal static class Utf8Text
{
    /// <exception cref="InvalidDataException"><paramref name="bytes"/> is not valid UTF-8.</exception>
    public static void Require(ReadOnlySpan<byte> bytes, string path)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return;
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var valid, out _, replaceInvalidSequences: false);
        var line = 1 + bytes[..valid].Count((byte)'\n');
        throw new InvalidDataException($"{path}: line {line} is not valid UTF-8 (byte {valid} of the file)");
    }

    /// <summary>The lines of <paramref name="path"/> as <see cref="File.ReadAllLines(string)"/> splits them (a UTF-8 byte-order mark dropped).</summary>
    /// <exception cref="InvalidDataException">The file is not valid UTF-8.</exception>
    public static string[] ReadLines(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Require(bytes, path);
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        var lines = new List<string>();
        using var reader = new StringReader(Encoding.UTF8.GetString(bytes, start, bytes.Length - start));
        while (reader.ReadLine() is { } line) lines.Add(line);
        return [.. lines];
    }
}

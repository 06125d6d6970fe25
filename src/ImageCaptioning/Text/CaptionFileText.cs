using System.Text;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

/// <summary>
/// Decodes caption files: UTF-8 unless a byte-order mark says UTF-16 or UTF-32 (the mark itself is dropped). Bytes
/// invalid in that encoding are an error naming the file, line and byte offset, or, when the options allow it,
/// U+FFFD counted in a logged warning. A control character other than tab and the line breaks is an error naming the
/// file, line and column: caption cleaning would drop it without a trace and join or cut the words around it.
/// </summary>
internal static class CaptionFileText
{
    private const int Utf8 = 65001;

    // UTF-32 LE before UTF-16 LE: its mark starts with the other's.
    private static readonly (byte[] Mark, int CodePage)[] Marks =
        [([0xFF, 0xFE, 0x00, 0x00], 12000), ([0x00, 0x00, 0xFE, 0xFF], 12001), ([0xEF, 0xBB, 0xBF], Utf8), ([0xFF, 0xFE], 1200), ([0xFE, 0xFF], 1201)];

    /// <summary>The text of <paramref name="path"/>, which must exist.</summary>
    public static string Read(string path, CaptionReaderOptions? options, ILogger? logger)
    {
        var text = Decode(path, File.ReadAllBytes(path), options, logger);
        var index = IndexOfControl(text);
        if (index < 0) return text;
        var before = text.AsSpan(0, index);
        var lineStart = before.LastIndexOfAny('\r', '\n') + 1;
        var line = 1 + before.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Count(c => c is '\n' or '\r');
        throw new CaptionFormatException(path, line, $"{DescribeControl(text[index])} at column {index - lineStart + 1}{ControlAdvice}");
    }

    /// <summary>
    /// Throws for a control character in a string read from a JSON caption file (JSON allows them as escapes such as
    /// <c>\u0000</c>), where <paramref name="error"/> locates the string.
    /// </summary>
    public static string RefuseControls(string value, string property, Func<string, CaptionFormatException> error)
    {
        var index = IndexOfControl(value);
        return index < 0 ? value : throw error($"'{property}' holds {DescribeControl(value[index])} at character {index + 1}{ControlAdvice}");
    }

    private const string ControlAdvice = ", which no caption or image name has; remove it from the file";

    /// <summary>
    /// Where <paramref name="text"/> holds a control character that no caption or image name has, or -1. Tab separates
    /// Flickr8k's token file and CR and LF end lines; every other C0 or C1 control, and DEL, counts.
    /// </summary>
    public static int IndexOfControl(string text)
    {
        for (var i = 0; i < text.Length; i++)
            if (char.IsControl(text[i]) && text[i] is not ('\t' or '\n' or '\r')) return i;
        return -1;
    }

    private static string DescribeControl(char c) => $"the control character U+{(int)c:X4}";

    /// <summary>
    /// <paramref name="bytes"/> as valid UTF-8 (the same array when it already is), for readers that parse bytes;
    /// a UTF-8 byte-order mark stays in place.
    /// </summary>
    public static byte[] ValidUtf8(string path, byte[] bytes, CaptionReaderOptions? options, ILogger? logger)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return bytes;
        return Encoding.UTF8.GetBytes(Decode(path, bytes, 0, Utf8, options, logger));
    }

    private static string Decode(string path, byte[] bytes, CaptionReaderOptions? options, ILogger? logger)
    {
        var (mark, codePage) = Array.Find(Marks, m => bytes.AsSpan().StartsWith(m.Mark));
        return Decode(path, bytes, mark?.Length ?? 0, mark is null ? Utf8 : codePage, options, logger);
    }

    private static string Decode(string path, byte[] bytes, int start, int codePage, CaptionReaderOptions? options, ILogger? logger)
    {
        var fallback = new RecordingFallback();
        var text = Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, fallback).GetString(bytes, start, bytes.Length - start);
        if (fallback.Offsets.Count == 0) return text;

        var encoding = Encoding.GetEncoding(codePage);
        var first = start + fallback.Offsets.Min;
        // The line as the readers count it: a line break is LF, CRLF or a lone CR. The text before the first invalid byte is valid.
        var before = encoding.GetString(bytes, start, first - start).Replace("\r\n", "\n", StringComparison.Ordinal);
        var line = 1 + before.Count(c => c is '\n' or '\r');
        var name = encoding.WebName.ToUpperInvariant();
        var where = $"byte offset {first} (0x{bytes[first]:X2})";
        if ((options ?? CaptionReaderOptions.Default).InvalidText == InvalidTextHandling.Throw)
            throw new CaptionFormatException(path, line,
                $"invalid {name} at {where}{(fallback.Offsets.Count > 1 ? $", and {fallback.Offsets.Count - 1} more invalid sequence(s)" : "")}: " +
                $"save the file as {name}, or read it with {nameof(CaptionReaderOptions)}.{nameof(CaptionReaderOptions.InvalidText)} = " +
                $"{nameof(InvalidTextHandling)}.{nameof(InvalidTextHandling.Replace)} to replace such bytes with U+FFFD");
        logger?.LogWarning("{Path}: replaced {Count} invalid {Encoding} sequence(s) with U+FFFD, the first at line {Line}, {Where}",
            path, fallback.Offsets.Count, name, line, where);
        return text;
    }

    /// <summary>Replaces each invalid sequence with U+FFFD, as the default fallback does, and records where it starts.</summary>
    private sealed class RecordingFallback : DecoderFallback
    {
        // A set: GetString meets each invalid sequence twice, once counting the characters and once decoding them.
        public SortedSet<int> Offsets { get; } = [];

        public override int MaxCharCount => 1;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

        private sealed class Buffer(RecordingFallback owner) : DecoderFallbackBuffer
        {
            private bool pending;

            public override int Remaining => pending ? 1 : 0;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                owner.Offsets.Add(index);
                pending = true;
                return true;
            }

            public override char GetNextChar()
            {
                if (!pending) return '\0';
                pending = false;
                return '\uFFFD';
            }

            public override bool MovePrevious() => false;

            public override void Reset() => pending = false;
        }
    }
}

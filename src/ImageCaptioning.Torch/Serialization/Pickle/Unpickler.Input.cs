using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ImageCaptioning.Torch.Serialization.Pickle;

// The stack machine's primitives: stack and mark handling, bounded reads, and decoding of literals.
internal sealed partial class Unpickler
{
    private int CurrentMarkBase => marks.Count == 0 ? 0 : marks[^1];

    private void Push(object? value) => stack.Add(value);

    private object? Pop()
    {
        if (stack.Count <= CurrentMarkBase) throw Corrupt("the pickle pops from an empty stack");
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private object? Peek() =>
        stack.Count > CurrentMarkBase ? stack[^1] : throw Corrupt("the pickle reads from an empty stack");

    private T PopAs<T>(string what)
    {
        var value = Pop();
        return value is T typed ? typed : throw Corrupt($"{what} is {Describe(value)}, not {DescribeType<T>()}");
    }

    private T PeekAs<T>(string opcodeName)
    {
        var top = Peek();
        return top is T value ? value : throw Corrupt($"{opcodeName} applies to {Describe(top)}, not {DescribeType<T>()}");
    }

    private List<object?> PopMark()
    {
        if (marks.Count == 0) throw Corrupt("the pickle closes a MARK that was never opened");
        var start = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        var items = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    private int ReadByte()
    {
        var value = input.ReadByte();
        return value >= 0 ? value : throw Truncated();
    }

    private byte[] ReadBytes(long count)
    {
        var bytes = new byte[ReadLength(count)];
        if (input.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length) throw Truncated();
        return bytes;
    }

    private int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    // A length field is trusted only as far as the bytes that remain: a corrupt length never allocates gigabytes.
    private int ReadLength(long length)
    {
        if (length < 0) throw Corrupt($"negative length {length}");
        var remaining = input.Length - input.Position;
        if (length > remaining) throw Truncated();
        if (length > Array.MaxLength) throw Corrupt($"length {length} is larger than this reader supports");
        return (int)length;
    }

    private int ReadLength(ulong length) => ReadLength(length > long.MaxValue ? -1 : (long)length);

    private byte[] ReadLine()
    {
        var line = new List<byte>();
        while (true)
        {
            var b = ReadByte();
            if (b == '\n') return line.ToArray();
            if (line.Count >= MaxLineLength) throw Corrupt("a text line is longer than any pickle writes");
            line.Add((byte)b);
        }
    }

    private string ReadAsciiLine()
    {
        var line = ReadLine();
        foreach (var b in line)
            if (b is < 0x20 or > 0x7e) throw Corrupt("a name line holds non-printable bytes");
        return Encoding.ASCII.GetString(line);
    }

    private object ParseIntLine(byte[] line)
    {
        var text = Encoding.ASCII.GetString(line);
        // Protocol 0 writes booleans as INT 01 / 00.
        if (text == "01") return true;
        if (text == "00") return false;
        return ParseInteger(text);
    }

    private object ParseLongLine(byte[] line)
    {
        var text = Encoding.ASCII.GetString(line);
        return ParseInteger(text.EndsWith('L') ? text[..^1] : text);
    }

    private object ParseInteger(string text) =>
        BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? Normalize(value)
            : throw Corrupt($"'{text}' is not an integer");

    // The cast to object matters: without it the conditional's type is BigInteger, and every value would box as one.
    private static object Normalize(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;

    private static object DecodeLong(byte[] bytes) =>
        bytes.Length == 0 ? 0L : Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));

    private double ParseFloatLine(byte[] line)
    {
        var text = Encoding.ASCII.GetString(line);
        switch (text)
        {
            case "nan": return double.NaN;
            case "inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Corrupt($"'{text}' is not a float");
    }

    private long ParseMemoIndex(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : throw Corrupt($"'{text}' is not a memo index");

    private string DecodeUtf8(byte[] bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw Corrupt("a string is not valid UTF-8"); }
    }

    // Python 2 str values, as torch.load reads them with its default encoding='utf-8'.
    private string DecodeLegacyString(byte[] bytes) => DecodeUtf8(bytes);

    private string ParseQuotedString(byte[] line)
    {
        var text = Encoding.Latin1.GetString(line);
        if (text.Length < 2 || text[0] != text[^1] || text[0] is not ('\'' or '"'))
            throw Corrupt("a STRING literal is not quoted");
        var body = text[1..^1];
        if (body.Contains('\\')) throw Corrupt("escaped protocol-0 STRING literals are not supported");
        return body;
    }

    private string DecodeRawUnicodeEscape(byte[] line)
    {
        var builder = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is (byte)'u' or (byte)'U')
            {
                var digits = line[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits > line.Length
                    || !int.TryParse(Encoding.ASCII.GetString(line, i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var codePoint)
                    || codePoint is < 0 or > 0x10FFFF)
                    throw Corrupt("a UNICODE literal has a bad escape");
                builder.Append(char.ConvertFromUtf32(codePoint));
                i += 1 + digits;
            }
            else
                builder.Append((char)line[i]);
        }
        return builder.ToString();
    }

    private TensorFileException Truncated() =>
        new(path, null, $"{part}: the pickle ends unexpectedly at byte {input.Position}: the file is truncated or corrupt");

    private TensorFileException Corrupt(string reason) =>
        new(path, null, $"{part}: corrupt pickle at byte {opcodeOffset}: {reason}");

    // Integers are shown with their value, so that a message never says "an integer, not an integer" when the value
    // is merely negative or wider than 64 bits. Huge ones are not printed: decimal formatting is quadratic in length.
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "a string",
        long number => $"the integer {number.ToString(CultureInfo.InvariantCulture)}",
        BigInteger big when big.GetBitLength() <= 128 => $"the integer {big.ToString(CultureInfo.InvariantCulture)}, beyond 64 bits",
        BigInteger big => $"an integer of {big.GetBitLength()} bits",
        bool => "a bool",
        double => "a float",
        byte[] => "bytes",
        object?[] => "a tuple",
        List<object?> => "a list",
        PickleDictionary d => $"a {d.PythonType}",
        PickleGlobal g => $"the global {g.FullName}",
        PendingTensor => "a tensor",
        StorageView => "a storage",
        _ => value.GetType().Name,
    };

    /// <summary>What a value of <typeparamref name="T"/> is called in messages, in <see cref="Describe"/>'s words.</summary>
    internal static string DescribeType<T>() => typeof(T) switch
    {
        var t when t == typeof(string) => "a string",
        var t when t == typeof(long) => "a 64-bit integer",
        var t when t == typeof(bool) => "a bool",
        var t when t == typeof(object?[]) => "a tuple",
        var t when t == typeof(List<object?>) => "a list",
        var t when t == typeof(PickleDictionary) => "a dict",
        var t when t == typeof(PickleGlobal) => "a global",
        var t when t == typeof(PendingTensor) => "a tensor",
        var t when t == typeof(StorageView) => "a storage",
        var t => t.Name,
    };
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageCaptioning.Features;

/// <summary>
/// The NumPy <c>.npy</c> format 1.0 header of a C-order little-endian float32 matrix <c>[rows, columns]</c>. Ours
/// is always <see cref="Length"/> bytes, space-padded, so that the row count can be rewritten in place.
/// </summary>
internal static partial class NpyHeader
{
    /// <summary>Header bytes we write: a multiple of 64 as NumPy aligns it, with room for any row count.</summary>
    public const int Length = 128;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static byte[] Build(long rows, int columns, int totalLength = Length)
    {
        var dictionary = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        var prefix = Magic.Length + 4;
        var padded = totalLength - prefix - 1;
        if (dictionary.Length > padded) throw new InvalidOperationException($"an npy header for [{rows}, {columns}] does not fit in {totalLength} bytes");
        var header = new byte[totalLength];
        Magic.CopyTo(header);
        header[6] = 1; // format version 1.0
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(totalLength - prefix));
        Encoding.ASCII.GetBytes(dictionary.PadRight(padded) + "\n", header.AsSpan(prefix));
        return header;
    }

    /// <summary>Reads and checks the header at the start of <paramref name="stream"/>.</summary>
    /// <returns>The row count it declares, its column count, and where the data starts.</returns>
    public static (long Rows, long Columns, int DataOffset) Read(Stream stream, string path)
    {
        Span<byte> prefix = stackalloc byte[10];
        stream.Position = 0;
        if (stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false) < prefix.Length || !prefix[..6].SequenceEqual(Magic))
            throw new FeatureStoreException(path, "not a NumPy .npy file (bad magic or shorter than a header)");
        if (prefix[6] != 1)
            throw new FeatureStoreException(path, $"npy format version {prefix[6]}.{prefix[7]} is not supported (1.0 is)");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        var text = new byte[headerLength];
        if (stream.ReadAtLeast(text, headerLength, throwOnEndOfStream: false) < headerLength)
            throw new FeatureStoreException(path, "the npy header is truncated");
        var dictionary = Encoding.ASCII.GetString(text);
        var match = HeaderPattern().Match(dictionary);
        if (!match.Success)
            throw new FeatureStoreException(path, $"expected a C-order little-endian float32 matrix ('<f4', fortran_order False, 2-d shape) but the header is {dictionary.Trim()}");
        return (long.Parse(match.Groups["rows"].Value, CultureInfo.InvariantCulture),
                long.Parse(match.Groups["columns"].Value, CultureInfo.InvariantCulture),
                10 + headerLength);
    }

    [GeneratedRegex(@"^\{\s*(?=.*'descr'\s*:\s*'<f4')(?=.*'fortran_order'\s*:\s*False)(?=.*'shape'\s*:\s*\(\s*(?<rows>\d{1,18})\s*,\s*(?<columns>\d{1,9})\s*\)).*\}\s*$", RegexOptions.Singleline)]
    private static partial Regex HeaderPattern();
}

namespace ImageCaptioning.Testing.Fuzzing;

/// <summary>One damaged copy of a good file: its bytes and how they were made from the original.</summary>
internal sealed record FuzzCase(int Index, string Mutation, byte[] Bytes)
{
    public override string ToString() => $"case {Index} ({Mutation})";
}

/// <summary>
/// Fixed-seed damage of the kinds a disk, a transfer or an attacker does to a file: truncation, flipped bits, an
/// overwritten run of bytes, and inserted or deleted bytes. The same seed gives the same cases on every machine, so a
/// failing case can be named and replayed.
/// </summary>
internal static class FileMutations
{
    public static IEnumerable<FuzzCase> Cases(byte[] original, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (original.Length < 2) throw new ArgumentException("a file to damage needs at least two bytes", nameof(original));
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var (mutation, bytes) = (i % 5) switch
            {
                0 => Truncate(original, random),
                1 => FlipBits(original, random, 1),
                2 => FlipBits(original, random, 1 + random.Next(16)),
                3 => Overwrite(original, random),
                _ => InsertOrDelete(original, random),
            };
            yield return new FuzzCase(i, mutation, bytes);
        }
    }

    private static (string, byte[]) Truncate(byte[] original, Random random)
    {
        var length = random.Next(original.Length);
        return ($"truncated to {length} of {original.Length} bytes", original[..length]);
    }

    private static (string, byte[]) FlipBits(byte[] original, Random random, int flips)
    {
        var bytes = (byte[])original.Clone();
        var positions = new List<string>();
        for (var f = 0; f < flips; f++)
        {
            var offset = random.Next(bytes.Length);
            var bit = random.Next(8);
            bytes[offset] ^= (byte)(1 << bit);
            positions.Add($"{offset}.{bit}");
        }
        return ($"bits flipped at {string.Join(",", positions)}", bytes);
    }

    private static (string, byte[]) Overwrite(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        var length = Math.Min(bytes.Length, 1 + random.Next(64));
        var offset = random.Next(bytes.Length - length + 1);
        random.NextBytes(bytes.AsSpan(offset, length));
        return ($"{length} bytes overwritten at {offset}", bytes);
    }

    private static (string, byte[]) InsertOrDelete(byte[] original, Random random)
    {
        var offset = random.Next(original.Length);
        var length = 1 + random.Next(8);
        if (random.Next(2) == 0)
        {
            var inserted = new byte[length];
            random.NextBytes(inserted);
            return ($"{length} bytes inserted at {offset}", [.. original[..offset], .. inserted, .. original[offset..]]);
        }
        length = Math.Min(length, original.Length - offset);
        return ($"{length} bytes deleted at {offset}", [.. original[..offset], .. original[(offset + length)..]]);
    }
}

namespace ImageCaptioning.Synthetic;

/// <summary>
/// SplitMix64: a tiny generator whose sequence is fixed by its definition, unlike <see cref="Random"/>'s, which .NET
/// may change between versions. Datasets stay byte-identical across runtimes for a given seed.
/// </summary>
internal struct SyntheticRandom
{
    private ulong state;

    /// <summary>The generator for image <paramref name="index"/> of a dataset seeded with <paramref name="seed"/>.</summary>
    /// <remarks>Each image has its own stream, so image k is the same whatever the image count.</remarks>
    public SyntheticRandom(int seed, int index)
    {
        state = ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)index * 0xD1B54A32D192ED03UL);
        NextUInt64();
    }

    public ulong NextUInt64()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="exclusiveMax"/>); the bias of the multiply-shift mapping is below 2^-32.</summary>
    public int NextInt(int exclusiveMax) => (int)(((NextUInt64() >> 32) * (ulong)exclusiveMax) >> 32);

    /// <summary>A value in [-1, 1).</summary>
    public double NextSigned() => ((NextUInt64() >> 11) * (1.0 / (1UL << 53)) * 2) - 1;

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];
}

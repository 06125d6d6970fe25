namespace ImageCaptioning.Vision;

/// <summary>
/// Feature rows of consecutive images: row <c>i</c> (<see cref="Dimension"/> floats) belongs to
/// <see cref="Sources"/>[i], which was input number <see cref="StartIndex"/> + i. Immutable.
/// </summary>
public sealed class ExtractedFeatures
{
    private readonly float[] values;

    internal ExtractedFeatures(int startIndex, IReadOnlyList<string> sources, int dimension, float[] values)
    {
        StartIndex = startIndex;
        Sources = sources;
        Dimension = dimension;
        this.values = values;
    }

    /// <summary>Position of the first row's image in the extraction's input list.</summary>
    public int StartIndex { get; }

    /// <summary>The image of each row: its path, or a stream's name.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Sources.Count;

    /// <summary>Floats per row.</summary>
    public int Dimension { get; }

    /// <summary>All rows, row-major: <c>[Count, Dimension]</c>.</summary>
    public ReadOnlyMemory<float> Values => values;

    /// <summary>Row <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return values.AsSpan(index * Dimension, Dimension);
    }
}

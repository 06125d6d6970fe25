namespace ImageCaptioning.Data;

/// <summary>
/// Image feature vectors addressed by row: one row of <see cref="Dimension"/> floats per image id. Reads go into
/// caller buffers so that batch building allocates nothing. Implementations must allow concurrent reads
/// (prefetch workers read in parallel).
/// </summary>
public interface IFeatureSource
{
    /// <summary>The image id of each row.</summary>
    IReadOnlyList<string> ImageIds { get; }

    /// <summary>Floats per row.</summary>
    int Dimension { get; }

    /// <summary>Looks up the row of <paramref name="imageId"/>.</summary>
    bool TryGetRow(string imageId, out int row);

    /// <summary>Copies row <paramref name="row"/> into <paramref name="destination"/> (exactly <see cref="Dimension"/> floats).</summary>
    void Read(int row, Span<float> destination);

    /// <summary>Copies <paramref name="rows"/>, one after another, into <paramref name="destination"/>.</summary>
    void Read(ReadOnlySpan<int> rows, Span<float> destination)
    {
        if (destination.Length != rows.Length * Dimension)
            throw new ArgumentException($"{rows.Length} rows of {Dimension} floats need {rows.Length * Dimension} floats but the destination holds {destination.Length}", nameof(destination));
        for (var i = 0; i < rows.Length; i++) Read(rows[i], destination.Slice(i * Dimension, Dimension));
    }
}

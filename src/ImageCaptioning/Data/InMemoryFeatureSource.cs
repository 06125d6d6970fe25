namespace ImageCaptioning.Data;

/// <summary>Features held in one managed array, row-major.</summary>
public sealed class InMemoryFeatureSource : IFeatureSource
{
    private readonly string[] imageIds;
    private readonly float[] values;
    private readonly Dictionary<string, int> rows;

    /// <summary>Copies <paramref name="values"/>: row i (<paramref name="dimension"/> floats) belongs to <paramref name="imageIds"/>[i].</summary>
    public InMemoryFeatureSource(IReadOnlyList<string> imageIds, int dimension, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.Length != (long)imageIds.Count * dimension)
            throw new ArgumentException($"{imageIds.Count} rows of {dimension} floats need {(long)imageIds.Count * dimension} values but {values.Length} were given", nameof(values));
        this.imageIds = [.. imageIds];
        this.values = values.ToArray();
        Dimension = dimension;
        rows = new Dictionary<string, int>(imageIds.Count, StringComparer.Ordinal);
        for (var i = 0; i < this.imageIds.Length; i++)
            if (!rows.TryAdd(this.imageIds[i], i))
                throw new ArgumentException($"image '{this.imageIds[i]}' has two rows ({rows[this.imageIds[i]]} and {i})", nameof(imageIds));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ImageIds => imageIds;

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public bool TryGetRow(string imageId, out int row) => rows.TryGetValue(imageId, out row);

    /// <inheritdoc />
    public void Read(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, imageIds.Length);
        if (destination.Length != Dimension)
            throw new ArgumentException($"a row has {Dimension} floats but the destination holds {destination.Length}", nameof(destination));
        values.AsSpan(row * Dimension, Dimension).CopyTo(destination);
    }
}

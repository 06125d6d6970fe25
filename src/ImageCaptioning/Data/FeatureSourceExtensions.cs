namespace ImageCaptioning.Data;

/// <summary>Reads by image id.</summary>
public static class FeatureSourceExtensions
{
    /// <summary>Copies the features of <paramref name="imageId"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="KeyNotFoundException">The source has no row for the image.</exception>
    public static void Read(this IFeatureSource source, string imageId, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.TryGetRow(imageId, out var row))
            throw new KeyNotFoundException($"the feature source has no features for image '{imageId}'");
        source.Read(row, destination);
    }
}

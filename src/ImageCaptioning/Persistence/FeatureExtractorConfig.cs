namespace ImageCaptioning.Persistence;

/// <summary>The <c>featureExtractor</c> section of config.json: a <see cref="FeatureExtractorDescription"/>.</summary>
internal sealed class FeatureExtractorConfig
{
    public string Name { get; set; } = "";
    public int Dimension { get; set; }
    public PreprocessingConfig? Preprocessing { get; set; }

    public static FeatureExtractorConfig From(FeatureExtractorDescription description) => new()
    {
        Name = description.Name,
        Dimension = description.Dimension,
        Preprocessing = description.Preprocessing is { } transform ? PreprocessingConfig.From(transform) : null,
    };

    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public FeatureExtractorDescription ToDescription()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("the feature extractor needs a name", nameof(Name));
        if (Dimension < 1) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "must be positive");
        return new FeatureExtractorDescription(Name, Dimension, Preprocessing?.ToOptions());
    }
}

namespace ImageCaptioning.Data;

/// <summary>What a <see cref="CaptionDataset"/> does with images the feature source lacks.</summary>
public enum MissingFeaturePolicy
{
    /// <summary>Throw a <see cref="MissingFeaturesException"/> listing the first missing ids.</summary>
    Throw = 0,

    /// <summary>Leave the images out, count them in the statistics and log a warning.</summary>
    Skip = 1,
}

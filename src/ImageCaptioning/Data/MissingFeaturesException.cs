namespace ImageCaptioning.Data;

/// <summary>Images of the caption corpus have no row in the feature source.</summary>
public sealed class MissingFeaturesException : KeyNotFoundException
{
    /// <summary>Creates the exception for <paramref name="missingCount"/> images, the first of which are <paramref name="firstMissingIds"/>.</summary>
    public MissingFeaturesException(IReadOnlyList<string> firstMissingIds, int missingCount)
        : base($"{missingCount} image(s) have no features, first: {string.Join(", ", firstMissingIds)}. " +
               $"Extract their features, or set {nameof(CaptionDatasetOptions)}.{nameof(CaptionDatasetOptions.MissingFeatures)} = {nameof(MissingFeaturePolicy)}.{nameof(MissingFeaturePolicy.Skip)}.")
    {
        FirstMissingIds = firstMissingIds;
        MissingCount = missingCount;
    }

    /// <summary>The first missing image ids, in corpus order.</summary>
    public IReadOnlyList<string> FirstMissingIds { get; }

    /// <summary>How many images are missing.</summary>
    public int MissingCount { get; }
}

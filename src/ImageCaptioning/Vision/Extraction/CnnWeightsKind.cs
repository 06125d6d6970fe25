namespace ImageCaptioning.Vision;

/// <summary>The kinds of <see cref="CnnWeights"/>.</summary>
public enum CnnWeightsKind
{
    /// <summary>The torch hub cache.</summary>
    HubCache,
    /// <summary>A given file.</summary>
    File,
    /// <summary>Seeded random initialisation.</summary>
    Random,
    /// <summary>The hub cache when present, else seeded random.</summary>
    HubCacheOrRandom,
}

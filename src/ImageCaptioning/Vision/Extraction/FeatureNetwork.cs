namespace ImageCaptioning.Vision;

/// <summary>The CNNs a feature extractor can be built from by name (<see cref="FeatureNetworks"/>).</summary>
public enum FeatureNetwork
{
    /// <summary>VGG16 fc7, 4096-d (the recipe's).</summary>
    Vgg16,
    /// <summary>ResNet-50 average pool, 2048-d.</summary>
    ResNet50,
}

namespace ImageCaptioning.Vision;

/// <summary>The CNNs a feature extractor can be built from by name (<see cref="FeatureNetworks"/>).</summary>
public enum FeatureNetwork
{
    /// <summary>VGG16 fc7, 4096-d (the recipe's).</summary>
    Vgg16,
    /// <summary>ResNet-50 average pool, 2048-d.</summary>
    ResNet50,
    /// <summary>VGG16's conv5_3 grid (<see cref="Vgg16SpatialFeatureExtractor"/>): 14 × 14 cells of 512 at 224 × 224.</summary>
    Vgg16Conv5_3,
    /// <summary>ResNet-50's layer4 grid (<see cref="ResNet50SpatialFeatureExtractor"/>): 7 × 7 cells of 2048 at 224 × 224.</summary>
    ResNet50Layer4,
}

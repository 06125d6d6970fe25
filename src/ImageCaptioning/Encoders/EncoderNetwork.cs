namespace ImageCaptioning.Encoders;

/// <summary>The pretrained networks a <see cref="PretrainedCnnEncoder"/> fine-tunes, and the grid each gives.</summary>
public enum EncoderNetwork
{
    /// <summary>torchvision's ResNet-50 up to its last block, <c>layer4</c>: (S/32)² cells of 2048 channels.</summary>
    ResNet50,

    /// <summary>torchvision's VGG16 up to conv5_3 after its ReLU (<c>features[:30]</c>): (S/16)² cells of 512 channels.</summary>
    Vgg16,
}

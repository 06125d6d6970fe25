namespace ImageCaptioning.Encoders;

/// <summary>
/// Which pretrained network a <see cref="PretrainedCnnEncoder"/> fine-tunes and how much of it. Both networks count
/// five blocks: ResNet-50's stem (<c>conv1</c>, <c>bn1</c>) and <c>layer1</c>–<c>layer4</c>; VGG16's five
/// convolution blocks, each ending where a max-pool stood (conv1_x … conv5_x).
/// </summary>
public sealed record PretrainedCnnEncoderOptions
{
    /// <summary>Blocks of either network.</summary>
    public const int BlockCount = 5;

    /// <summary>The network. Default ResNet-50.</summary>
    public EncoderNetwork Network { get; init => field = OptionGuard.Defined(value); } = EncoderNetwork.ResNet50;

    /// <summary>
    /// How many of the last blocks train (0: the whole network is frozen, 5: all of it). Default 1: ResNet-50's
    /// <c>layer4</c> or VGG16's conv5 block. A frozen block keeps its weights and its batch norms stay in eval mode.
    /// </summary>
    public int TrainableBlocks
    {
        get;
        init => field = OptionGuard.Require(value, value is >= 0 and <= BlockCount, $"must be within [0, {BlockCount}]");
    } = 1;

    /// <summary>Side of the square input images, in pixels: a multiple of <see cref="Stride"/>. Default 224.</summary>
    public int InputSize { get; init => field = OptionGuard.AtLeast(value, 16); } = 224;

    /// <summary>Pixels per grid cell side: 32 for ResNet-50, 16 for VGG16.</summary>
    public int Stride => Network == EncoderNetwork.ResNet50 ? 32 : 16;

    /// <summary>Side of the output grid: <see cref="InputSize"/> / <see cref="Stride"/>.</summary>
    public int GridSize => InputSize / Stride;

    /// <summary>Checks what a single setting cannot: that the network's stride divides the input size.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="InputSize"/> is not a multiple of <see cref="Stride"/>.</exception>
    public PretrainedCnnEncoderOptions Validate()
    {
        if (InputSize % Stride != 0)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize,
                $"InputSize must be a multiple of {Stride} for {Network}, whose grid has one cell per {Stride}×{Stride} pixels");
        return this;
    }
}

namespace ImageCaptioning.Encoders;

/// <summary>
/// Shape of a <see cref="SmallCnnEncoder"/>: stages of 3×3 convolutions, each stage halving the image's side, for
/// images without a pretrained network (synthetic shapes, small datasets). The defaults turn a 64×64 image into an
/// 8×8 grid of 64 channels.
/// </summary>
public sealed record SmallCnnEncoderOptions
{
    /// <summary>Side of the square input images, in pixels; a multiple of 2^<see cref="Stages"/>. Default 64.</summary>
    public int InputSize { get; init => field = OptionGuard.AtLeast(value, 2); } = 64;

    /// <summary>
    /// Output channels of each stage, first to last; the last is the grid's <see cref="Modeling.ImageEncoder.Channels"/>.
    /// Default [16, 32, 64]: on a CPU the batch norms cost about as much as the convolutions, both growing with the
    /// widths, and these keep a batch of 64-pixel images cheap enough to encode at every training step.
    /// </summary>
    public IReadOnlyList<int> Widths
    {
        get;
        init
        {
            OptionGuard.NotNull(value);
            OptionGuard.Require(value, value.Count >= 1 && value.All(w => w >= 1), "needs at least one stage and every width at least 1");
            field = Array.AsReadOnly(value.ToArray());
        }
    } = Array.AsReadOnly([16, 32, 64]);

    /// <summary>
    /// Convolutions in each stage: the first has stride 2, the others stride 1 and widen the receptive field at the
    /// stage's resolution. Default 1.
    /// </summary>
    public int ConvolutionsPerStage { get; init => field = OptionGuard.AtLeast(value, 1); } = 1;

    /// <summary>
    /// How each stage halves the side: a stride-2 first convolution (the default, cheapest), or stride-1 convolutions
    /// at the stage's resolution followed by a 2×2 max-pool, which costs about four times the convolution work and
    /// keeps small shapes' edges for the pool to pick.
    /// </summary>
    public SmallCnnDownsampling Downsampling { get; init => field = OptionGuard.Defined(value); } = SmallCnnDownsampling.StridedConvolution;

    /// <summary>
    /// Whether a batch norm follows each convolution (which then has no bias). Default true: trained from scratch with
    /// the decoder's learning rate, the normalised stages train in fewer epochs; the batches' images are distinct, so
    /// their statistics are those of real images.
    /// </summary>
    public bool BatchNorm { get; init; } = true;

    /// <summary>Stages, each halving the side.</summary>
    public int Stages => Widths.Count;

    /// <summary>Side of the output grid: <see cref="InputSize"/> / 2^<see cref="Stages"/>.</summary>
    public int GridSize => InputSize >> Stages;

    /// <summary>Checks what a single setting cannot: that every stage halves an even side, leaving at least one cell.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="InputSize"/> is not a multiple of 2^<see cref="Stages"/>.</exception>
    public SmallCnnEncoderOptions Validate()
    {
        if (Stages > 30 || InputSize % (1 << Stages) != 0)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize,
                $"InputSize must be a multiple of 2^{Stages} so that each of the {Stages} stages halves an even side");
        return this;
    }
}

/// <summary>How a <see cref="SmallCnnEncoder"/> stage halves the side of its input.</summary>
public enum SmallCnnDownsampling
{
    /// <summary>The stage's first convolution has stride 2.</summary>
    StridedConvolution,

    /// <summary>The stage's convolutions have stride 1, and a 2×2 max-pool ends the stage.</summary>
    MaxPool,
}

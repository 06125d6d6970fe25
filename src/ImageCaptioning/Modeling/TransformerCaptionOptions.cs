namespace ImageCaptioning.Modeling;

/// <summary>The non-linearity of a transformer layer's feed-forward block.</summary>
public enum TransformerActivation
{
    /// <summary>max(0, x), the default of <c>torch.nn.TransformerDecoderLayer</c>.</summary>
    ReLU,

    /// <summary>The exact (erf) GELU.</summary>
    GELU,
}

/// <summary>How a <see cref="TransformerCaptionModel"/> tells the positions of a caption apart.</summary>
public enum PositionEncoding
{
    /// <summary>A trained embedding per position, up to <see cref="TransformerCaptionOptions.MaxPositions"/>.</summary>
    Learned,

    /// <summary>The fixed sines and cosines of Vaswani et al. (2017): no parameters and no length limit.</summary>
    Sinusoidal,
}

/// <summary>
/// Shape of a <see cref="TransformerCaptionModel"/>. The defaults are the base transformer of Vaswani et al. (2017)
/// cut to three decoder layers, reading a 512-channel grid, without dropout.
/// </summary>
public sealed record TransformerCaptionOptions
{
    /// <summary>Words the model can emit (the tokenizer's vocabulary size).</summary>
    public int VocabularySize { get; init; }

    /// <summary>Channels of one grid cell of the encoder output: 512 for VGG16 conv5_3, 2048 for ResNet-101.</summary>
    public int FeatureDimension { get; init => field = OptionGuard.AtLeast(value, 1); } = 512;

    /// <summary>
    /// Grid cells per image in the rows the model reads from a dataset (a row holds P·<see cref="FeatureDimension"/>
    /// floats, channels-last): 196 for a 14×14 grid. A grid passed as [N, P, C] may have any number of cells.
    /// </summary>
    public int GridCells { get; init => field = OptionGuard.AtLeast(value, 1); } = 196;

    /// <summary>Width of every token's representation inside the decoder (d_model); a multiple of <see cref="Heads"/>.</summary>
    public int ModelDimension { get; init => field = OptionGuard.AtLeast(value, 1); } = 512;

    /// <summary>Attention heads of every self- and cross-attention block.</summary>
    public int Heads { get; init => field = OptionGuard.AtLeast(value, 1); } = 8;

    /// <summary>Decoder layers, each causal self-attention, cross-attention to the grid and a feed-forward block.</summary>
    public int Layers { get; init => field = OptionGuard.AtLeast(value, 1); } = 3;

    /// <summary>Width of the feed-forward block's hidden layer (dim_feedforward).</summary>
    public int FeedForwardSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 2048;

    /// <summary>The feed-forward block's non-linearity.</summary>
    public TransformerActivation Activation { get; init => field = OptionGuard.Defined(value); } = TransformerActivation.ReLU;

    /// <summary>How positions are encoded.</summary>
    public PositionEncoding Positions { get; init => field = OptionGuard.Defined(value); } = PositionEncoding.Learned;

    /// <summary>
    /// Positions a learned encoding has, which bounds both the teacher-forced length and
    /// <see cref="DecodingOptions.MaxLength"/>; sinusoidal positions ignore it.
    /// </summary>
    public int MaxPositions { get; init => field = OptionGuard.AtLeast(value, 1); } = 64;

    /// <summary>
    /// Dropout while training, where <c>torch.nn.TransformerDecoderLayer</c> applies it (attention weights, each
    /// residual branch, the feed-forward hidden layer) and on the embedded tokens.
    /// </summary>
    public double Dropout { get; init => field = OptionGuard.Require(value, value is >= 0 and < 1, "must be within [0, 1)"); }

    /// <summary>The padding token id; its embedding stays zero and it is never a training target.</summary>
    public int PadId { get; init => field = OptionGuard.AtLeast(value, 0); }

    /// <summary>
    /// Checks what a single setting cannot: the vocabulary size (0 until a tokenizer fills it in), that the pad id is
    /// a token of that vocabulary, and that the heads split the model dimension evenly. The model's constructor calls it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">One of those rules fails.</exception>
    public TransformerCaptionOptions Validate()
    {
        if (VocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize, "the vocabulary needs at least 2 tokens");
        if (PadId >= VocabularySize) throw new ArgumentOutOfRangeException(nameof(PadId), PadId, "must be a token id of the vocabulary");
        if (ModelDimension % Heads != 0) throw new ArgumentOutOfRangeException(nameof(Heads), Heads, $"must divide ModelDimension ({ModelDimension})");
        return this;
    }
}

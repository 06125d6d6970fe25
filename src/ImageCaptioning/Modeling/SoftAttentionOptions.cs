namespace ImageCaptioning.Modeling;

/// <summary>
/// Shape of a <see cref="SoftAttentionCaptionModel"/>. The defaults are those of sgrvinod's
/// a-PyTorch-Tutorial-to-Image-Captioning, with a VGG16 conv5_3 grid as the encoder and no dropout.
/// </summary>
public sealed record SoftAttentionOptions
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

    /// <summary>Width of a word embedding.</summary>
    public int EmbeddingSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 512;

    /// <summary>Width of the LSTM cell's state.</summary>
    public int HiddenSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 512;

    /// <summary>Width of the attention network's hidden layer.</summary>
    public int AttentionSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 512;

    /// <summary>Dropout on the LSTM output before the vocabulary layer, while training. The tutorial used 0.5.</summary>
    public double Dropout { get; init => field = OptionGuard.Require(value, value is >= 0 and < 1, "must be within [0, 1)"); }

    /// <summary>The padding token id; its embedding stays zero and it is never a training target.</summary>
    public int PadId { get; init => field = OptionGuard.AtLeast(value, 0); }

    /// <summary>
    /// Weight λ of the doubly stochastic attention penalty that <see cref="SoftAttentionCaptionModel.Loss"/> adds to
    /// the cross entropy; 0 turns it off.
    /// </summary>
    public double AttentionRegularization
    {
        get;
        init => field = OptionGuard.Require(value, double.IsFinite(value) && value >= 0, "must be finite and not negative");
    } = 1;

    /// <summary>
    /// Checks what a single setting cannot: the vocabulary size (0 until a tokenizer fills it in) and that the pad
    /// id is a token of that vocabulary. The model's constructor calls it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary is smaller than 2 tokens or lacks the pad id.</exception>
    public SoftAttentionOptions Validate()
    {
        if (VocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize, "the vocabulary needs at least 2 tokens");
        if (PadId >= VocabularySize) throw new ArgumentOutOfRangeException(nameof(PadId), PadId, "must be a token id of the vocabulary");
        return this;
    }
}

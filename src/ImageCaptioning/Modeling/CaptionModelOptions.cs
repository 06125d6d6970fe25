namespace ImageCaptioning.Modeling;

/// <summary>Which decoder design a <see cref="CaptionModel"/> uses.</summary>
public enum CaptionArchitecture
{
    /// <summary>
    /// The PyTorch recipe's: the image initialises the LSTM state (h0 = tanh(W_h·img), c0 = tanh(W_c·img)) and the
    /// LSTM reads the caption.
    /// </summary>
    InitInject,

    /// <summary>
    /// The Keras recipe's: the image (Dense + ReLU) and the LSTM's reading of the caption are added, then
    /// Dense + ReLU and the output layer.
    /// </summary>
    Merge,
}

/// <summary>Shape of a captioning model. Validated when a model is built.</summary>
public sealed record CaptionModelOptions
{
    /// <summary>Decoder design. Default: <see cref="CaptionArchitecture.InitInject"/>.</summary>
    public CaptionArchitecture Architecture { get; init => field = OptionGuard.Defined(value); } = CaptionArchitecture.InitInject;

    /// <summary>Words the model can emit (the tokenizer's vocabulary size).</summary>
    public int VocabularySize { get; init; }

    /// <summary>Width of an image feature row: 4096 for VGG16 fc7, 2048 for ResNet-50.</summary>
    public int FeatureDimension { get; init => field = OptionGuard.AtLeast(value, 1); } = 4096;

    /// <summary>Width of a word embedding.</summary>
    public int EmbeddingSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 256;

    /// <summary>Width of the LSTM state.</summary>
    public int HiddenSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 256;

    /// <summary>Stacked LSTM layers.</summary>
    public int Layers { get; init => field = OptionGuard.AtLeast(value, 1); } = 1;

    /// <summary>
    /// Dropout while training: on embeddings and LSTM outputs (init-inject), on the image input and embeddings
    /// (merge), and between LSTM layers. 0 reproduces the PyTorch recipe; the Keras recipe used 0.5.
    /// </summary>
    public double Dropout { get; init => field = OptionGuard.Require(value, value is >= 0 and < 1, "must be within [0, 1)"); }

    /// <summary>The padding token id; its embedding stays zero and it is never a training target.</summary>
    public int PadId { get; init => field = OptionGuard.AtLeast(value, 0); }

    /// <summary>
    /// Checks what a single setting cannot: the vocabulary size, which the pipeline fills in (0 until then), and that
    /// the pad id is a token of that vocabulary. <see cref="CaptionModel.Create"/> calls it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary is smaller than 2 tokens or lacks the pad id.</exception>
    public CaptionModelOptions Validate()
    {
        if (VocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize, "the vocabulary needs at least 2 tokens");
        if (PadId >= VocabularySize) throw new ArgumentOutOfRangeException(nameof(PadId), PadId, "must be a token id of the vocabulary");
        return this;
    }
}

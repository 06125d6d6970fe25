using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Modeling;

/// <summary>
/// An image-conditioned language model over caption tokens, whatever its architecture: the Show-and-Tell LSTMs
/// (<see cref="LstmCaptionModel"/>), soft attention (<see cref="SoftAttentionCaptionModel"/>) and the transformer
/// decoder (<see cref="TransformerCaptionModel"/>). It reads one row of <see cref="InputDimension"/> floats per
/// image, as a feature source or dataset holds them: a feature vector, a flattened channels-last grid, or, with a
/// trainable <see cref="Encoder"/>, the image's transformed pixels. Training reads whole token sequences
/// (<see cref="Loss"/>); decoding advances one token at a time, carrying the state (<see cref="Decode"/>).
/// </summary>
public abstract class CaptionModel : torch.nn.Module
{
    private protected CaptionModel(string name) : base(name) => TorchRuntime.EnsureLoaded();

    /// <summary>Words the model can emit.</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The padding token id: never a target, and its embedding stays zero.</summary>
    public abstract int PadId { get; }

    /// <summary>Floats per image row the model reads.</summary>
    public abstract int InputDimension { get; }

    /// <summary>The network trained inside this model's graph that turns pixel rows into features, or null when the model reads cached features.</summary>
    public virtual ImageEncoder? Encoder => null;

    /// <summary>
    /// For a model that attends over a grid of cells, the grid's rows and columns (the cells in row-major order), so
    /// that <see cref="DecodedCaption.Attention"/> can be drawn over the image; null for a model that does not attend
    /// or whose cells do not form a square grid.
    /// </summary>
    public virtual (int Rows, int Columns)? AttentionGrid => null;

    /// <summary>Builds the Show-and-Tell model the options describe, with PyTorch's default initialisation.</summary>
    public static LstmCaptionModel Create(CaptionModelOptions options, Device? device = null) => LstmCaptionModel.Create(options, device);

    /// <summary>
    /// The teacher-forcing training loss: mean cross entropy of the next-token logits over the positions whose
    /// target is not the pad id (plus the architecture's regulariser, if it has one). <paramref name="features"/>
    /// holds one row per sample, or one row per distinct image when <paramref name="featureIndex"/> maps each sample
    /// to its row (images are then encoded once, not per sample). <paramref name="inputs"/> and
    /// <paramref name="targets"/> are [B, T] int64, right-padded. Only the positions with a real target reach the
    /// vocabulary projection, the largest cost of a training step.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit the model or each other.</exception>
    public abstract Tensor Loss(Tensor features, Tensor inputs, Tensor targets, Tensor? featureIndex = null);

    /// <summary>
    /// Captions for each image row of <paramref name="features"/>, in order, by the strategy of
    /// <paramref name="options"/> (greedy when null): every strategy is batched over images, feeds only the newest
    /// token and carries the state; a caption that emits <paramref name="endId"/> stops, and beam search reorders the
    /// state with its beams. Runs in eval mode without gradients and restores the model's mode after.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="features"/> does not fit the model.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startId"/> or <paramref name="endId"/> is not a token id, or the length limit exceeds what the model can read.</exception>
    public IReadOnlyList<DecodedCaption> Decode(Tensor features, int startId, int endId, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ModelArguments.CheckTokenId(startId, VocabularySize);
        ModelArguments.CheckTokenId(endId, VocabularySize);
        options ??= DecodingOptions.Greedy;
        CheckDecoding(options);
        CheckRows(features);
        var sequences = StepDecoding.Run(this, () => BeginDecoding(features), (int)features.size(0), features.device,
            VocabularySize, startId, endId, options);
        return sequences.Select(s => new DecodedCaption(s.Tokens, s.LogProbability, s.Finished) { Attention = s.Attention }).ToArray();
    }

    /// <summary>
    /// The per-step decoder over <paramref name="features"/> (as <see cref="Decode"/> takes them), one row per image,
    /// in the model's current mode and gradient setting: the caller owns it. Self-critical training samples through it
    /// with gradients on.
    /// </summary>
    internal abstract IStepDecoder BeginDecoding(Tensor features);

    /// <summary>Throws when the model cannot decode captions as long as <paramref name="options"/> allows.</summary>
    private protected virtual void CheckDecoding(DecodingOptions options)
    {
    }

    /// <summary>Throws unless <paramref name="features"/> is a batch of image rows the model reads.</summary>
    private protected virtual void CheckRows(Tensor features)
    {
        if (features.ndim != 2 || features.size(1) != InputDimension)
            throw new ArgumentException($"features must be [N, {InputDimension}], got [{string.Join(", ", features.shape)}]", nameof(features));
    }

    private protected static Tensor Rows(Tensor projectedImages, Tensor? featureIndex) =>
        featureIndex is null ? projectedImages.alias() : projectedImages.index_select(0, featureIndex);
}

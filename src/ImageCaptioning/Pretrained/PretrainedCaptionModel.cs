namespace ImageCaptioning.Pretrained;

/// <summary>
/// A pretrained image-to-text network as the shared generation loop drives it. Its state_dict keys are the
/// checkpoint's (modules registered under Hugging Face's names), so <see cref="PretrainedWeights"/> binds a file to it
/// and a fine-tuned one saves under the same names.
/// </summary>
internal abstract class PretrainedCaptionModel : nn.Module
{
    protected PretrainedCaptionModel(string name) : base(name)
    {
    }

    /// <summary>Rows of the output layer: every token id the decoder can produce is below it.</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The most decoder positions (the start and prompt tokens count), or null when unbounded.</summary>
    public abstract int? MaxPositions { get; }

    /// <summary>
    /// Teacher-forced logits: float32 [B, L, V] for <paramref name="pixelValues"/> [B, 3, H, W] and
    /// <paramref name="decoderInputIds"/> [B, L] (the start token first).
    /// </summary>
    public abstract Tensor Logits(Tensor pixelValues, Tensor decoderInputIds);

    /// <summary>
    /// The label smoothing of the training loss (PyTorch's <c>label_smoothing</c>: that share of each label's target
    /// mass spread evenly over the vocabulary); 0 unless the architecture's loss smooths.
    /// </summary>
    public virtual double LabelSmoothing => 0;

    /// <summary>
    /// The teacher-forced training loss, as transformers' <c>VisionEncoderDecoderModel</c> computes it: the decoder reads
    /// <paramref name="labels"/> [B, L] shifted right behind <paramref name="startId"/> (ignored positions, -100, read as
    /// <paramref name="padId"/>), and the loss is the mean cross entropy (with <see cref="LabelSmoothing"/>) over the
    /// positions whose label is not -100. That is also BLIP's labelled loss when its input_ids are the start token
    /// followed by the labels: the logits of every position but the last against the input ids after it. The first
    /// <paramref name="promptTokens"/> labels (a prompt's, the same in every row) are read but not learnt, as BLIP's
    /// own fine-tuning sets their targets to -100.
    /// </summary>
    public Tensor Loss(Tensor pixelValues, Tensor labels, int padId, int startId, int promptTokens = 0)
    {
        using var scope = torch.NewDisposeScope();
        var inputs = torch.full(labels.shape, startId, ScalarType.Int64, labels.device);
        inputs.narrow(1, 1, labels.size(1) - 1).copy_(labels.narrow(1, 0, labels.size(1) - 1));
        inputs.masked_fill_(inputs.eq(IgnoredLabel), padId);
        if (promptTokens > 0)
        {
            labels = labels.clone();
            labels.narrow(1, 0, promptTokens).fill_(IgnoredLabel);
        }
        var logits = Logits(pixelValues, inputs);
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index: IgnoredLabel, label_smoothing: LabelSmoothing).MoveToOuterDisposeScope();
    }

    /// <summary>The label of positions the loss ignores (PyTorch's and transformers' -100).</summary>
    public const long IgnoredLabel = -100;

    /// <summary>Where the image encoder's parameters are, which fine-tuning may freeze whole or in part.</summary>
    public abstract EncoderLayout Encoder { get; }

    /// <summary>The parameters of the image encoder.</summary>
    public IEnumerable<Parameter> EncoderParameters() =>
        named_parameters().Where(p => p.name.StartsWith(Encoder.Prefix, StringComparison.Ordinal)).Select(p => p.parameter);

    /// <summary>
    /// Encodes the images once and starts incremental decoding over <paramref name="copies"/> rows per image (beams),
    /// image-major: row <c>i * copies + j</c> belongs to image <c>i</c>.
    /// </summary>
    public abstract GenerationSession Start(Tensor pixelValues, int copies);
}

/// <summary>
/// Incremental decoding of a batch of rows with a key/value cache: the image's cross-attention keys and values are
/// computed once in <see cref="PretrainedCaptionModel.Start"/>, each step runs only the new tokens.
/// </summary>
internal abstract class GenerationSession : IDisposable
{
    /// <summary>
    /// Feeds <paramref name="tokens"/> [rows, k] (the start and prompt tokens first, then one token per step) and
    /// returns the float32 logits [rows, V] at the last of them.
    /// </summary>
    public abstract Tensor Next(Tensor tokens);

    /// <summary>Keeps the cache of rows <paramref name="rows"/> [rows] (a beam step's choice of parents), in that order.</summary>
    public abstract void Reorder(Tensor rows);

    /// <summary>Frees the cache.</summary>
    public abstract void Dispose();
}

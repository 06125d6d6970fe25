namespace ImageCaptioning.Modeling;

/// <summary>
/// The Show-and-Tell family: one feature vector per image, read once (init-inject, the PyTorch recipe's) or added
/// to every step (merge, the Keras recipe's). Training reads whole token sequences (<see cref="Hidden"/> then
/// <see cref="Project"/>, so the output layer can skip padded positions); decoding advances one token at a time from
/// <see cref="Begin"/> with <see cref="Step"/>, carrying the state.
/// </summary>
public abstract class LstmCaptionModel : CaptionModel
{
    private protected LstmCaptionModel(CaptionModelOptions options) : base(nameof(CaptionModel)) => Options = options.Validate();

    /// <summary>The model's shape.</summary>
    public CaptionModelOptions Options { get; }

    /// <inheritdoc/>
    public override int VocabularySize => Options.VocabularySize;

    /// <inheritdoc/>
    public override int PadId => Options.PadId;

    /// <inheritdoc/>
    public override int InputDimension => Options.FeatureDimension;

    /// <summary>Builds the model the options describe, with PyTorch's default initialisation.</summary>
    public static new LstmCaptionModel Create(CaptionModelOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        LstmCaptionModel model = options.Architecture switch
        {
            CaptionArchitecture.InitInject => new InitInjectCaptionModel(options),
            CaptionArchitecture.Merge => new MergeCaptionModel(options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Architecture, "unknown architecture"),
        };
        if (device is { } d) model.to(d);
        return model;
    }

    /// <summary>
    /// The last hidden layer before the output projection, at every position: [B, T, width].
    /// <paramref name="features"/> holds one row per sample, or one row per distinct image when
    /// <paramref name="featureIndex"/> maps each sample to its row (images are then projected once, not per sample).
    /// </summary>
    public abstract Tensor Hidden(Tensor features, Tensor tokens, Tensor? featureIndex = null);

    /// <summary>Vocabulary logits from hidden rows [..., width].</summary>
    public Tensor Project(Tensor hidden) => OutputLayer.forward(hidden);

    /// <summary>
    /// Mean cross entropy of <see cref="Project"/>(<paramref name="hidden"/>) against <paramref name="targets"/>:
    /// hidden rows [N, width], targets [N] int64. Callers pass only the rows that have a real target, so the
    /// vocabulary projection never runs on padding.
    /// </summary>
    public Tensor ProjectionLoss(Tensor hidden, Tensor targets)
    {
        using var logits = Project(hidden);
        return torch.nn.functional.cross_entropy(logits, targets);
    }

    /// <inheritdoc/>
    public override Tensor Loss(Tensor features, Tensor inputs, Tensor targets, Tensor? featureIndex = null)
    {
        ModelArguments.CheckTargets(inputs, targets);
        using var scope = torch.NewDisposeScope();
        var (rows, realTargets) = RealTargets.Select(Hidden(features, inputs, featureIndex), targets, PadId);
        return ProjectionLoss(rows, realTargets).MoveToOuterDisposeScope();
    }

    private protected abstract Linear OutputLayer { get; }

    /// <summary>Logits at every position, [B, T, V]: the recipe's <c>forward(img, caps)</c>.</summary>
    public Tensor forward(Tensor features, Tensor tokens, Tensor? featureIndex = null)
    {
        using var hidden = Hidden(features, tokens, featureIndex);
        return Project(hidden);
    }

    /// <summary>The decoder state before the first token, for each image row.</summary>
    public abstract DecoderState Begin(Tensor features);

    /// <summary>Feeds one token per sequence ([N] int64); returns the next-token logits [N, V] and the new state.</summary>
    public (Tensor Logits, DecoderState State) Step(Tensor tokens, DecoderState state)
    {
        using var scope = torch.NewDisposeScope();
        var (hidden, next) = StepHidden(tokens, state);
        return (Project(hidden).MoveToOuterDisposeScope(), next);
    }

    /// <summary>
    /// <see cref="Step"/> up to the output layer: the hidden rows [N, width] (in the caller's dispose scope) and the
    /// new state.
    /// </summary>
    private protected abstract (Tensor Hidden, DecoderState State) StepHidden(Tensor tokens, DecoderState state);

    internal override IStepDecoder BeginDecoding(Tensor features) => new StepDecoder(this, Begin(features));

    // One LSTM step over [N, E] inputs: TorchSharp's LSTM takes sequences, and a length-1 sequence carrying (h, c)
    // gives exactly the step's output.
    private protected static (Tensor Output, Tensor H, Tensor C) LstmStep(LSTM lstm, Tensor input, DecoderState state)
    {
        var (output, h, c) = RecordedLstm.Forward(lstm, input.unsqueeze(1), (state.H, state.C));
        return (output.squeeze(1), h, c);
    }

    private protected Tensor Drop(Tensor x) =>
        Options.Dropout > 0 ? torch.nn.functional.dropout(x, Options.Dropout, training) : x.alias();

    // The LSTM state behind the shared decoding loops.
    private sealed class StepDecoder(LstmCaptionModel model, DecoderState state) : IStepDecoder
    {
        private readonly DecodingProjection projection = new(model.OutputLayer);
        private DecoderState state = state;

        public (Tensor Logits, Tensor? Attention) Step(Tensor tokens)
        {
            var (hidden, next) = model.StepHidden(tokens, state);
            state.Dispose();
            state = next;
            return (projection.Apply(hidden), null);
        }

        public void Select(Tensor indices)
        {
            var selected = state.Select(indices);
            state.Dispose();
            state = selected;
        }

        public void Dispose()
        {
            state.Dispose();
            projection.Dispose();
        }
    }
}

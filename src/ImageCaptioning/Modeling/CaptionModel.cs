using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Modeling;

/// <summary>
/// An image-conditioned language model over caption tokens. Training reads whole token sequences
/// (<see cref="Hidden"/> then <see cref="Project"/>, so the output layer can skip padded positions); decoding
/// advances one token at a time from <see cref="Begin"/> with <see cref="Step"/>, carrying the state.
/// </summary>
public abstract class CaptionModel : torch.nn.Module
{
    private protected CaptionModel(CaptionModelOptions options) : base(nameof(CaptionModel))
    {
        TorchRuntime.EnsureLoaded();
        Options = options.Validate();
    }

    /// <summary>The model's shape.</summary>
    public CaptionModelOptions Options { get; }

    /// <summary>Builds the model the options describe, with PyTorch's default initialisation.</summary>
    public static CaptionModel Create(CaptionModelOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CaptionModel model = options.Architecture switch
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
    /// vocabulary projection, the largest cost of a training step, never runs on padding.
    /// </summary>
    public Tensor ProjectionLoss(Tensor hidden, Tensor targets)
    {
        using var logits = Project(hidden);
        return torch.nn.functional.cross_entropy(logits, targets);
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
    public abstract (Tensor Logits, DecoderState State) Step(Tensor tokens, DecoderState state);

    // One LSTM step over [N, E] inputs: TorchSharp's LSTM takes sequences, and a length-1 sequence carrying (h, c)
    // gives exactly the step's output.
    private protected static (Tensor Output, Tensor H, Tensor C) LstmStep(LSTM lstm, Tensor input, DecoderState state)
    {
        var (output, h, c) = lstm.forward(input.unsqueeze(1), (state.H, state.C));
        return (output.squeeze(1), h, c);
    }

    private protected static Tensor Rows(Tensor projectedImages, Tensor? featureIndex) =>
        featureIndex is null ? projectedImages.alias() : projectedImages.index_select(0, featureIndex);

    private protected Tensor Drop(Tensor x) =>
        Options.Dropout > 0 ? torch.nn.functional.dropout(x, Options.Dropout, training) : x.alias();
}

/// <summary>
/// The recipe's init-inject decoder with its state_dict names: img_to_h, img_to_c, embedding, lstm, fc.
/// </summary>
internal sealed class InitInjectCaptionModel : CaptionModel
{
    private readonly Linear imgToH, imgToC, fc;
    private readonly Embedding embedding;
    private readonly LSTM lstm;

    public InitInjectCaptionModel(CaptionModelOptions o) : base(o)
    {
        imgToH = this.Register("img_to_h", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        imgToC = this.Register("img_to_c", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        lstm = this.Register("lstm", torch.nn.LSTM(o.EmbeddingSize, o.HiddenSize, o.Layers, batchFirst: true, dropout: o.Dropout));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
    }

    public override Tensor Hidden(Tensor features, Tensor tokens, Tensor? featureIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var (h0, c0) = InitialState(features, featureIndex);
        var (output, _, _) = lstm.forward(Drop(embedding.forward(tokens)), (h0, c0));
        return Drop(output).MoveToOuterDisposeScope();
    }

    private protected override Linear OutputLayer => fc;

    public override DecoderState Begin(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var (h0, c0) = InitialState(features, null);
        return new DecoderState(h0, c0, null);
    }

    public override (Tensor Logits, DecoderState State) Step(Tensor tokens, DecoderState state)
    {
        using var scope = torch.NewDisposeScope();
        var (output, h, c) = LstmStep(lstm, embedding.forward(tokens), state);
        var logits = fc.forward(output).MoveToOuterDisposeScope();
        return (logits, new DecoderState(h, c, null));
    }

    // Every layer starts from the image: h0 = tanh(img_to_h(img)), c0 = tanh(img_to_c(img)).
    private (Tensor H0, Tensor C0) InitialState(Tensor features, Tensor? featureIndex)
    {
        var h = Rows(imgToH.forward(features).tanh(), featureIndex).unsqueeze(0);
        var c = Rows(imgToC.forward(features).tanh(), featureIndex).unsqueeze(0);
        if (Options.Layers == 1) return (h, c);
        var shape = new[] { (long)Options.Layers, h.size(1), h.size(2) };
        return (h.expand(shape).contiguous(), c.expand(shape).contiguous());
    }
}

/// <summary>
/// The Keras recipe's merge decoder: image → Dense + ReLU, caption → Embedding → LSTM, added, then Dense + ReLU
/// and the output layer. Names: img_fc, embedding, lstm, decoder_fc, fc.
/// </summary>
internal sealed class MergeCaptionModel : CaptionModel
{
    private readonly Linear imgFc, decoderFc, fc;
    private readonly Embedding embedding;
    private readonly LSTM lstm;

    public MergeCaptionModel(CaptionModelOptions o) : base(o)
    {
        imgFc = this.Register("img_fc", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        lstm = this.Register("lstm", torch.nn.LSTM(o.EmbeddingSize, o.HiddenSize, o.Layers, batchFirst: true, dropout: o.Dropout));
        decoderFc = this.Register("decoder_fc", torch.nn.Linear(o.HiddenSize, o.HiddenSize));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
    }

    public override Tensor Hidden(Tensor features, Tensor tokens, Tensor? featureIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var image = Rows(ProjectImage(features), featureIndex);
        var (output, _, _) = lstm.forward(Drop(embedding.forward(tokens)));
        return decoderFc.forward(output + image.unsqueeze(1)).relu().MoveToOuterDisposeScope();
    }

    private protected override Linear OutputLayer => fc;

    public override DecoderState Begin(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var image = ProjectImage(features);
        var zeros = torch.zeros([Options.Layers, image.size(0), Options.HiddenSize], device: image.device);
        return new DecoderState(zeros, zeros.clone(), image);
    }

    public override (Tensor Logits, DecoderState State) Step(Tensor tokens, DecoderState state)
    {
        using var scope = torch.NewDisposeScope();
        var image = state.Image ?? throw new InvalidOperationException("a merge decoder state carries the projected image");
        var (output, h, c) = LstmStep(lstm, embedding.forward(tokens), state);
        var logits = fc.forward(decoderFc.forward(output + image).relu()).MoveToOuterDisposeScope();
        return (logits, new DecoderState(h, c, image.alias()));
    }

    private Tensor ProjectImage(Tensor features) => imgFc.forward(Drop(features)).relu();
}

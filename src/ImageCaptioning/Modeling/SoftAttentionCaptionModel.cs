using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Modeling;

/// <summary>
/// The soft-attention decoder of Show, Attend and Tell (Xu et al., 2015), with the state_dict names of sgrvinod's
/// a-PyTorch-Tutorial-to-Image-Captioning <c>DecoderWithAttention</c>: attention.encoder_att, attention.decoder_att,
/// attention.full_att, embedding, decode_step (an LSTM cell), init_h, init_c, f_beta, fc.
/// </summary>
/// <remarks>
/// It reads a grid of features per image, [B, P, C] (P cells of C channels), where <see cref="CaptionModel"/> reads
/// one row per image: at every word it attends over the cells with the LSTM state before that word, so the state it
/// carries includes the grid. A flattened channels-last grid [B, P·C] becomes its input by
/// <c>reshape(B, -1, C)</c>. Each step: α = softmax over P of full_att(ReLU(encoder_att(f) + decoder_att(h))),
/// context = sigmoid(f_beta(h)) ⊙ Σ_p α_p·f_p, (h, c) = decode_step([embedding(word); context], (h, c)),
/// logits = fc(dropout(h)); h and c start as init_h and init_c of the mean cell.
/// </remarks>
public sealed class SoftAttentionCaptionModel : torch.nn.Module
{
    private readonly AdditiveAttention attention;
    private readonly Embedding embedding;
    private readonly LSTMCell decodeStep;
    private readonly Linear initH, initC, fBeta, fc;

    /// <summary>Builds the model the options describe, with PyTorch's default initialisation.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The options fail <see cref="SoftAttentionOptions.Validate"/>.</exception>
    public SoftAttentionCaptionModel(SoftAttentionOptions options, Device? device = null) : base(nameof(SoftAttentionCaptionModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        TorchRuntime.EnsureLoaded();
        var o = Options = options.Validate();
        attention = this.Register("attention", new AdditiveAttention(o.FeatureDimension, o.HiddenSize, o.AttentionSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        decodeStep = this.Register("decode_step", torch.nn.LSTMCell(o.EmbeddingSize + o.FeatureDimension, o.HiddenSize));
        initH = this.Register("init_h", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        initC = this.Register("init_c", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        fBeta = this.Register("f_beta", torch.nn.Linear(o.HiddenSize, o.FeatureDimension));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
        if (device is { } d) this.to(d);
    }

    /// <summary>The model's shape.</summary>
    public SoftAttentionOptions Options { get; }

    /// <summary>Keeps the state_dict names above when this model becomes a child of another module (TorchSharp would add its fields under their C# names).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// Teacher forcing: reads <paramref name="tokens"/> [B, T] int64 against <paramref name="features"/> [B, P, C] and
    /// returns the next-token logits at every position, [B, T, V], and the attention weights with which each
    /// position was read, [B, T, P]. Positions after a caption's end are computed too; callers mask them.
    /// </summary>
    public (Tensor Logits, Tensor Attention) forward(Tensor features, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var (hidden, weights) = Unroll(features, tokens);
        return (fc.forward(hidden).MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The training loss: mean cross entropy of the next-token logits over the positions whose target is not the
    /// pad id, plus <see cref="AttentionPenalty"/> over those positions. <paramref name="inputs"/> and
    /// <paramref name="targets"/> are [B, T] int64, right-padded. Only the positions with a real target reach the
    /// output layer, as with <see cref="CaptionModel.ProjectionLoss"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="targets"/> and <paramref name="inputs"/> differ in shape.</exception>
    public Tensor Loss(Tensor features, Tensor inputs, Tensor targets)
    {
        GridArguments.CheckTargets(inputs, targets);
        using var scope = torch.NewDisposeScope();
        var (hidden, weights) = Unroll(features, inputs);
        var (rows, realTargets) = RealTargets.Select(hidden, targets, Options.PadId);
        var crossEntropy = F.cross_entropy(fc.forward(rows), realTargets);
        return crossEntropy.add(AttentionPenalty(weights, targets.ne(Options.PadId))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The doubly stochastic attention penalty λ·Σ_p (1 − Σ_t α_tp)², averaged over captions, where the sum over t
    /// runs over the positions <paramref name="realTokens"/> [B, T] (bool) marks: it pushes every cell to receive a
    /// total weight of about 1 over a caption. The tutorial averages over cells instead of summing, which is this
    /// with λ divided by P.
    /// </summary>
    public Tensor AttentionPenalty(Tensor attention, Tensor realTokens)
    {
        ArgumentNullException.ThrowIfNull(attention);
        ArgumentNullException.ThrowIfNull(realTokens);
        using var scope = torch.NewDisposeScope();
        var received = attention.mul(realTokens.unsqueeze(2).to_type(attention.dtype)).sum(1);
        return received.sub(1).square().sum(1).mean().mul(Options.AttentionRegularization).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Greedy captions for each image of <paramref name="features"/> [N, P, C], in order, each with the attention
    /// weights of every chosen word: <see cref="Decode"/> with greedy options of that length limit.
    /// </summary>
    public IReadOnlyList<AttendedCaption> Greedy(Tensor features, int startId, int endId, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Decode(features, startId, endId, DecodingOptions.Greedy with { MaxLength = maxLength });
    }

    /// <summary>
    /// Captions for each image of <paramref name="features"/> [N, P, C], in order, by the strategy of
    /// <paramref name="options"/> (greedy when null) with the same semantics as <see cref="CaptionDecoder"/>: each
    /// caption carries the attention weights with which each of its words was chosen. Every step feeds only the
    /// newest word and carries (h, c); a caption that emits <paramref name="endId"/> stops, and beam search
    /// reorders the state and the attention rows with its beams. The model's training mode is restored after.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="features"/> is not [N, P, C] with C the feature dimension.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startId"/> or <paramref name="endId"/> is not a token id.</exception>
    public IReadOnlyList<AttendedCaption> Decode(Tensor features, int startId, int endId, DecodingOptions? options = null)
    {
        GridArguments.CheckFeatures(features, Options.FeatureDimension);
        GridArguments.CheckTokenId(startId, Options.VocabularySize);
        GridArguments.CheckTokenId(endId, Options.VocabularySize);
        var sequences = StepDecoding.Run(this, () => new StepDecoder(this, features), (int)features.size(0), features.device,
            Options.VocabularySize, startId, endId, options ?? DecodingOptions.Greedy);
        return sequences.Select(s => new AttendedCaption(s.Tokens, s.Attention, s.Finished, s.LogProbability)).ToArray();
    }

    // Teacher forcing up to the output layer, so that Loss can project only the rows it scores: the dropped-out
    // hidden state at every position, [B, T, H], and the attention weights, [B, T, P].
    private (Tensor Hidden, Tensor Weights) Unroll(Tensor features, Tensor tokens)
    {
        GridArguments.CheckFeatures(features, Options.FeatureDimension);
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.ndim != 2 || tokens.size(0) != features.size(0))
            throw new ArgumentException($"tokens must be [{features.size(0)}, T], got [{string.Join(", ", tokens.shape)}]", nameof(tokens));
        using var scope = torch.NewDisposeScope();
        var projected = attention.ProjectFeatures(features);
        var (h, c) = InitialState(features);
        var embedded = embedding.forward(tokens);
        var length = tokens.size(1);
        var outputs = new Tensor[length];
        var weights = new Tensor[length];
        for (var t = 0; t < length; t++)
            (outputs[t], weights[t], h, c) = Advance(features, projected, embedded.select(1, t), h, c);
        return (torch.stack(outputs, 1).MoveToOuterDisposeScope(), torch.stack(weights, 1).MoveToOuterDisposeScope());
    }

    // One word for every row: attend with the state before the word, then read the word and the gated context.
    // Returns the state the output layer reads (dropped out in training) rather than logits, for Unroll's sake.
    private (Tensor Output, Tensor Weights, Tensor H, Tensor C) Advance(Tensor features, Tensor projected, Tensor embedded, Tensor h, Tensor c)
    {
        var (context, weights) = attention.forward(features, projected, h);
        var gated = fBeta.forward(h).sigmoid().mul(context);
        var (h1, c1) = decodeStep.forward(torch.cat([embedded, gated], 1), (h, c));
        var output = Options.Dropout > 0 ? F.dropout(h1, Options.Dropout, training) : h1;
        return (output, weights, h1, c1);
    }

    private (Tensor H, Tensor C) InitialState(Tensor features)
    {
        using var mean = features.mean([1]);
        return (initH.forward(mean), initC.forward(mean));
    }

    // What decoding carries for its rows: the grid and its projection (repeated per beam), and (h, c). Owns its
    // tensors (the caller's features only through an alias).
    private sealed class StepDecoder : IStepDecoder
    {
        private readonly SoftAttentionCaptionModel model;
        private Tensor features, projected, h, c;

        public StepDecoder(SoftAttentionCaptionModel model, Tensor features)
        {
            this.model = model;
            using var scope = torch.NewDisposeScope();
            var (h0, c0) = model.InitialState(features);
            var projection = model.attention.ProjectFeatures(features);
            // Detached only once nothing can throw, so that a failure leaves every tensor to the scope.
            this.features = features.alias().DetachFromDisposeScope();
            projected = projection.DetachFromDisposeScope();
            h = h0.DetachFromDisposeScope();
            c = c0.DetachFromDisposeScope();
        }

        public (Tensor Logits, Tensor? Attention) Step(Tensor tokens)
        {
            var (output, weights, h1, c1) = model.Advance(features, projected, model.embedding.forward(tokens), h, c);
            var logits = model.fc.forward(output);
            Replace(ref h, h1);
            Replace(ref c, c1);
            return (logits, weights);
        }

        public void Select(Tensor indices)
        {
            using var scope = torch.NewDisposeScope();
            Replace(ref features, features.index_select(0, indices));
            Replace(ref projected, projected.index_select(0, indices));
            Replace(ref h, h.index_select(0, indices));
            Replace(ref c, c.index_select(0, indices));
        }

        public void Dispose()
        {
            features.Dispose();
            projected.Dispose();
            h.Dispose();
            c.Dispose();
        }

        private static void Replace(ref Tensor field, Tensor value)
        {
            var old = field;
            field = value.DetachFromDisposeScope();
            old.Dispose();
        }
    }
}

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
/// logits = fc(dropout(h)); h and c start as init_h and init_c of the mean cell. With a trainable
/// <see cref="ImageEncoder"/> (registered as <c>encoder</c>), the rows are pixels and the grid is the encoder's output,
/// computed in the training graph.
/// </remarks>
public sealed class SoftAttentionCaptionModel : CaptionModel
{
    private readonly AdditiveAttention attention;
    private readonly Embedding embedding;
    private readonly LSTMCell decodeStep;
    private readonly Linear initH, initC, fBeta, fc;
    private readonly ImageEncoder? encoder;

    /// <summary>Builds the model the options describe, with PyTorch's default initialisation.</summary>
    /// <param name="options">The decoder's shape.</param>
    /// <param name="encoder">A trainable encoder whose grids the decoder reads (the model takes ownership), or null to read feature rows.</param>
    /// <param name="device">Where the model goes; the CPU when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options fail <see cref="SoftAttentionOptions.Validate"/>.</exception>
    /// <exception cref="ArgumentException">The encoder's grid does not have the options' cells and channels.</exception>
    public SoftAttentionCaptionModel(SoftAttentionOptions options, ImageEncoder? encoder = null, Device? device = null) : base(nameof(SoftAttentionCaptionModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = Options = options.Validate();
        ModelArguments.CheckEncoder(encoder, o.GridCells, o.FeatureDimension);
        attention = this.Register("attention", new AdditiveAttention(o.FeatureDimension, o.HiddenSize, o.AttentionSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        decodeStep = this.Register("decode_step", torch.nn.LSTMCell(o.EmbeddingSize + o.FeatureDimension, o.HiddenSize));
        initH = this.Register("init_h", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        initC = this.Register("init_c", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        fBeta = this.Register("f_beta", torch.nn.Linear(o.HiddenSize, o.FeatureDimension));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
        if (encoder is not null) this.encoder = this.Register("encoder", encoder);
        if (device is { } d) this.to(d);
    }

    /// <summary>The model's shape.</summary>
    public SoftAttentionOptions Options { get; }

    /// <inheritdoc/>
    public override int VocabularySize => Options.VocabularySize;

    /// <inheritdoc/>
    public override int PadId => Options.PadId;

    /// <summary>The encoder's input width, or <see cref="SoftAttentionOptions.GridCells"/> × <see cref="SoftAttentionOptions.FeatureDimension"/>.</summary>
    public override int InputDimension => encoder?.InputDimension ?? Options.GridCells * Options.FeatureDimension;

    /// <inheritdoc/>
    public override ImageEncoder? Encoder => encoder;

    /// <inheritdoc/>
    public override (int Rows, int Columns)? AttentionGrid => ModelArguments.SquareGrid(encoder?.Cells ?? Options.GridCells);

    /// <summary>Keeps the state_dict names above when this model becomes a child of another module (TorchSharp would add its fields under their C# names).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// Teacher forcing: reads <paramref name="tokens"/> [B, T] int64 against <paramref name="features"/> (a grid
    /// [B, P, C], flattened grids [B, P·C], or pixel rows for the encoder) and returns the next-token logits at every
    /// position, [B, T, V], and the attention weights with which each position was read, [B, T, P]. Positions after a
    /// caption's end are computed too; callers mask them.
    /// </summary>
    public (Tensor Logits, Tensor Attention) forward(Tensor features, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var grid = ModelArguments.Grid(features, encoder, Options.FeatureDimension);
        CheckTokens(grid, tokens);
        var (h, c) = InitialState(grid);
        var projected = attention.ProjectFeatures(grid);
        var embedded = embedding.forward(tokens);
        var length = tokens.size(1);
        var outputs = new Tensor[length];
        var weights = new Tensor[length];
        for (var t = 0; t < length; t++)
            (outputs[t], weights[t], h, c) = Advance(grid, projected, embedded.select(1, t), h, c);
        return (fc.forward(torch.stack(outputs, 1)).MoveToOuterDisposeScope(), torch.stack(weights, 1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The training loss: mean cross entropy of the next-token logits over the positions whose target is not the
    /// pad id, plus <see cref="AttentionPenalty"/> over those positions. Sequences are bucketed by length: the rows
    /// are sorted longest first and step t runs the attention and the LSTM only on the rows that still have a real
    /// target at t or later, so padding costs no recurrent work, and only the real positions reach the output layer.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit the model or each other.</exception>
    public override Tensor Loss(Tensor features, Tensor inputs, Tensor targets, Tensor? featureIndex = null)
    {
        ModelArguments.CheckTargets(inputs, targets);
        using var scope = torch.NewDisposeScope();
        var images = ModelArguments.Grid(features, encoder, Options.FeatureDimension);
        var grid = Rows(images, featureIndex);
        CheckTokens(grid, inputs);

        var real = targets.ne(Options.PadId);
        var length = inputs.size(1);
        // A row's recurrence must run up to its last real target, wherever padding sits before it.
        var positions = torch.arange(1, length + 1, dtype: ScalarType.Int64, device: targets.device);
        var (lastReal, order) = real.to_type(ScalarType.Int64).mul(positions).amax([1]).sort(descending: true);
        var active = new long[lastReal.size(0)];
        lastReal.cpu().CopyTo<long>(active);

        grid = grid.index_select(0, order);
        real = real.index_select(0, order);
        var sortedTargets = targets.index_select(0, order);
        var embedded = embedding.forward(inputs.index_select(0, order));
        var projected = attention.ProjectFeatures(grid);
        var (h, c) = InitialState(grid);
        var rows = new List<Tensor>();
        var rowTargets = new List<Tensor>();
        var received = torch.zeros([grid.size(0), grid.size(1)], dtype: grid.dtype, device: grid.device);
        for (var t = 0; t < length; t++)
        {
            var count = active.Count(last => last > t);
            if (count == 0) break;
            var (output, weights, h1, c1) = Advance(grid.narrow(0, 0, count), projected.narrow(0, 0, count),
                embedded.narrow(0, 0, count).select(1, t), h.narrow(0, 0, count), c.narrow(0, 0, count));
            (h, c) = (h1, c1);
            var mask = real.narrow(0, 0, count).select(1, t);
            rows.Add(output.index_select(0, mask.nonzero().squeeze(1)));
            rowTargets.Add(sortedTargets.narrow(0, 0, count).select(1, t).masked_select(mask));
            var scored = weights.mul(mask.unsqueeze(1).to_type(weights.dtype));
            received = received.add(count == received.size(0) ? scored : F.pad(scored, [0, 0, 0, received.size(0) - count]));
        }
        if (rows.Count == 0) throw new ArgumentException("targets holds no real token", nameof(targets));
        var crossEntropy = F.cross_entropy(fc.forward(torch.cat(rows, 0)), torch.cat(rowTargets, 0));
        var penalty = received.sub(1).square().sum(1).mean().mul(Options.AttentionRegularization);
        return crossEntropy.add(penalty).MoveToOuterDisposeScope();
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

    internal override IStepDecoder BeginDecoding(Tensor features) => new StepDecoder(this, features);

    private protected override void CheckRows(Tensor features) => ModelArguments.CheckGridInput(features, encoder, Options.FeatureDimension);

    private static void CheckTokens(Tensor grid, Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.ndim != 2 || tokens.size(0) != grid.size(0))
            throw new ArgumentException($"tokens must be [{grid.size(0)}, T], got [{string.Join(", ", tokens.shape)}]", nameof(tokens));
    }

    // One word for every row: attend with the state before the word, then read the word and the gated context.
    // Returns the state the output layer reads (dropped out in training) rather than logits, so that the loss can
    // project only the rows it scores.
    private (Tensor Output, Tensor Weights, Tensor H, Tensor C) Advance(Tensor grid, Tensor projected, Tensor embedded, Tensor h, Tensor c)
    {
        var (context, weights) = attention.forward(grid, projected, h);
        var gated = fBeta.forward(h).sigmoid().mul(context);
        var (h1, c1) = decodeStep.forward(torch.cat([embedded, gated], 1), (h, c));
        var output = Options.Dropout > 0 ? F.dropout(h1, Options.Dropout, training) : h1;
        return (output, weights, h1, c1);
    }

    private (Tensor H, Tensor C) InitialState(Tensor grid)
    {
        using var mean = grid.mean([1]);
        return (initH.forward(mean), initC.forward(mean));
    }

    // What decoding carries for its rows: the grid and its projection (repeated per beam), and (h, c). Owns its
    // tensors.
    private sealed class StepDecoder : IStepDecoder
    {
        private readonly SoftAttentionCaptionModel model;
        private readonly DecodingProjection output;
        private Tensor grid, projected, h, c;

        public StepDecoder(SoftAttentionCaptionModel model, Tensor features)
        {
            this.model = model;
            output = new DecodingProjection(model.fc);
            using var scope = torch.NewDisposeScope();
            var images = ModelArguments.Grid(features, model.encoder, model.Options.FeatureDimension);
            var (h0, c0) = model.InitialState(images);
            var projection = model.attention.ProjectFeatures(images);
            // Detached only once nothing can throw, so that a failure leaves every tensor to the scope.
            grid = images.DetachFromDisposeScope();
            projected = projection.DetachFromDisposeScope();
            h = h0.DetachFromDisposeScope();
            c = c0.DetachFromDisposeScope();
        }

        public (Tensor Logits, Tensor? Attention) Step(Tensor tokens)
        {
            var (output, weights, h1, c1) = model.Advance(grid, projected, model.embedding.forward(tokens), h, c);
            var logits = this.output.Apply(output);
            Replace(ref h, h1);
            Replace(ref c, c1);
            return (logits, weights);
        }

        public void Select(Tensor indices)
        {
            using var scope = torch.NewDisposeScope();
            Replace(ref grid, grid.index_select(0, indices));
            Replace(ref projected, projected.index_select(0, indices));
            Replace(ref h, h.index_select(0, indices));
            Replace(ref c, c.index_select(0, indices));
        }

        public void Dispose()
        {
            grid.Dispose();
            projected.Dispose();
            h.Dispose();
            c.Dispose();
            output.Dispose();
        }

        private static void Replace(ref Tensor field, Tensor value)
        {
            var old = field;
            field = value.DetachFromDisposeScope();
            old.Dispose();
        }
    }
}

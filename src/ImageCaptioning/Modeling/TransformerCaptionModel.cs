namespace ImageCaptioning.Modeling;

/// <summary>
/// A transformer caption decoder over a grid of image features, with PyTorch-style state_dict names:
/// feature_proj (the grid to the model dimension), embedding (tokens), positions (learned positions only),
/// layers.N (each a <c>torch.nn.TransformerDecoderLayer</c>, post-norm) and fc (the vocabulary layer).
/// </summary>
/// <remarks>
/// It reads [B, P, C] grids as <see cref="SoftAttentionCaptionModel"/> does. The grid is projected once,
/// memory = feature_proj(f); a caption's tokens become embedding(w_t) + position(t), pass through the layers
/// (causal self-attention, cross-attention to the memory, feed-forward) and fc gives the next-token logits.
/// Decoding keeps every layer's self-attention keys and values of the positions read so far, so each step reads
/// only the newest token.
/// </remarks>
public sealed class TransformerCaptionModel : CaptionModel
{
    private readonly Linear featureProj, fc;
    private readonly Embedding embedding;
    private readonly Embedding? positions;
    private readonly ModuleList<TransformerCaptionLayer> layers;
    private readonly ImageEncoder? encoder;

    /// <summary>Builds the model the options describe, with PyTorch's default initialisation.</summary>
    /// <param name="options">The decoder's shape.</param>
    /// <param name="encoder">A trainable encoder whose grids the decoder reads (the model takes ownership), or null to read feature rows.</param>
    /// <param name="device">Where the model goes; the CPU when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options fail <see cref="TransformerCaptionOptions.Validate"/>.</exception>
    /// <exception cref="ArgumentException">The encoder's grid does not have the options' cells and channels.</exception>
    public TransformerCaptionModel(TransformerCaptionOptions options, ImageEncoder? encoder = null, Device? device = null) : base(nameof(TransformerCaptionModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = Options = options.Validate();
        ModelArguments.CheckEncoder(encoder, o.GridCells, o.FeatureDimension);
        featureProj = this.Register("feature_proj", torch.nn.Linear(o.FeatureDimension, o.ModelDimension));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.ModelDimension, padding_idx: o.PadId));
        if (o.Positions == PositionEncoding.Learned)
            positions = this.Register("positions", torch.nn.Embedding(o.MaxPositions, o.ModelDimension));
        layers = this.Register("layers", torch.nn.ModuleList(Enumerable.Range(0, o.Layers).Select(_ => new TransformerCaptionLayer(o)).ToArray()));
        fc = this.Register("fc", torch.nn.Linear(o.ModelDimension, o.VocabularySize));
        if (encoder is not null) this.encoder = this.Register("encoder", encoder);
        if (device is { } d) this.to(d);
    }

    /// <summary>The model's shape.</summary>
    public TransformerCaptionOptions Options { get; }

    /// <inheritdoc/>
    public override int VocabularySize => Options.VocabularySize;

    /// <inheritdoc/>
    public override int PadId => Options.PadId;

    /// <summary>The encoder's input width, or <see cref="TransformerCaptionOptions.GridCells"/> × <see cref="TransformerCaptionOptions.FeatureDimension"/>.</summary>
    public override int InputDimension => encoder?.InputDimension ?? Options.GridCells * Options.FeatureDimension;

    /// <inheritdoc/>
    public override ImageEncoder? Encoder => encoder;

    /// <summary>The grid of the last layer's cross-attention weights, which decoding reports per word (averaged over heads).</summary>
    public override (int Rows, int Columns)? AttentionGrid => ModelArguments.SquareGrid(encoder?.Cells ?? Options.GridCells);

    /// <summary>Keeps the state_dict names above when this model becomes a child of another module (TorchSharp would add its fields under their C# names).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// Teacher forcing: reads <paramref name="tokens"/> [B, T] int64 against <paramref name="features"/> (a grid
    /// [B, P, C], flattened grids [B, P·C], or pixel rows for the encoder) and returns the next-token logits at every position, [B, T, V]. Position t sees tokens 0..t only, so
    /// right padding changes nothing before it; positions after a caption's end are computed too and callers mask them.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit, or a learned encoding has fewer than T positions.</exception>
    public Tensor forward(Tensor features, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        return fc.forward(Unroll(ModelArguments.Grid(features, encoder, Options.FeatureDimension), tokens)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training loss: mean cross entropy of the next-token logits over the positions whose target is not the
    /// pad id. Every position is read in one pass (causal self-attention), and only the positions with a real target
    /// reach the output layer.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit the model or each other.</exception>
    public override Tensor Loss(Tensor features, Tensor inputs, Tensor targets, Tensor? featureIndex = null)
    {
        ModelArguments.CheckTargets(inputs, targets);
        using var scope = torch.NewDisposeScope();
        var grid = Rows(ModelArguments.Grid(features, encoder, Options.FeatureDimension), featureIndex);
        var (rows, realTargets) = RealTargets.Select(Unroll(grid, inputs), targets, Options.PadId);
        return F.cross_entropy(fc.forward(rows), realTargets).MoveToOuterDisposeScope();
    }

    internal override IStepDecoder BeginDecoding(Tensor features) => new StepDecoder(this, features);

    private protected override void CheckRows(Tensor features) => ModelArguments.CheckGridInput(features, encoder, Options.FeatureDimension);

    private protected override void CheckDecoding(DecodingOptions options)
    {
        if (positions is not null && options.MaxLength > Options.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLength, $"MaxLength exceeds the {Options.MaxPositions} learned positions");
    }

    // Teacher forcing up to the output layer, so that Loss can project only the rows it scores: [B, T, D].
    private Tensor Unroll(Tensor features, Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.ndim != 2 || tokens.size(0) != features.size(0))
            throw new ArgumentException($"tokens must be [{features.size(0)}, T], got [{string.Join(", ", tokens.shape)}]", nameof(tokens));
        if (positions is not null && tokens.size(1) > Options.MaxPositions)
            throw new ArgumentException($"tokens has {tokens.size(1)} positions, more than the {Options.MaxPositions} learned ones", nameof(tokens));
        using var scope = torch.NewDisposeScope();
        var memory = featureProj.forward(features);
        var x = Embed(tokens, 0);
        foreach (var layer in layers)
        {
            var (keys, values) = layer.GridKeysAndValues(memory);
            x = layer.forward(x, keys, values);
        }
        return x.MoveToOuterDisposeScope();
    }

    // Tokens [B, L] at positions first..first+L-1 to [B, L, D].
    private Tensor Embed(Tensor tokens, long first)
    {
        using var scope = torch.NewDisposeScope();
        var length = tokens.size(1);
        var index = torch.arange(first, first + length, dtype: ScalarType.Int64, device: tokens.device);
        var position = positions is not null ? positions.forward(index) : Sinusoid(index, Options.ModelDimension);
        var x = embedding.forward(tokens) + position.unsqueeze(0);
        return (Options.Dropout > 0 ? F.dropout(x, Options.Dropout, training) : x).MoveToOuterDisposeScope();
    }

    // PE(t, 2i) = sin(t / 10000^(2i/D)), PE(t, 2i+1) = cos(t / 10000^(2i/D)): [L, D] for the positions in index.
    private static Tensor Sinusoid(Tensor index, int dimension)
    {
        using var scope = torch.NewDisposeScope();
        var frequencies = torch.arange(0, dimension, 2, dtype: ScalarType.Float32, device: index.device).mul(-Math.Log(10000.0) / dimension).exp();
        var angles = index.to_type(ScalarType.Float32).unsqueeze(1).mul(frequencies.unsqueeze(0));
        var interleaved = torch.stack([angles.sin(), angles.cos()], 2).reshape(index.size(0), -1);
        return interleaved.narrow(1, 0, dimension).MoveToOuterDisposeScope();
    }

    // What decoding carries for its rows: per layer, the grid's cross-attention keys and values (fixed, repeated per
    // beam) and the self-attention keys and values of every position read so far (grown each step). Owns them all.
    private sealed class StepDecoder : IStepDecoder
    {
        private readonly TransformerCaptionModel model;
        private readonly DecodingProjection projection;
        private readonly Tensor[] gridKeys, gridValues, keys, values;
        private long position;

        public StepDecoder(TransformerCaptionModel model, Tensor features)
        {
            this.model = model;
            projection = new DecodingProjection(model.fc);
            var count = model.layers.Count;
            (gridKeys, gridValues, keys, values) = (new Tensor[count], new Tensor[count], new Tensor[count], new Tensor[count]);
            using var scope = torch.NewDisposeScope();
            var memory = model.featureProj.forward(ModelArguments.Grid(features, model.encoder, model.Options.FeatureDimension));
            var rows = memory.size(0);
            var headWidth = model.Options.ModelDimension / model.Options.Heads;
            var computed = new (Tensor GridKeys, Tensor GridValues)[count];
            for (var i = 0; i < count; i++) computed[i] = model.layers[i].GridKeysAndValues(memory);
            // Detached only once nothing can throw, so that a failure leaves every tensor to the scope.
            for (var i = 0; i < count; i++)
            {
                gridKeys[i] = computed[i].GridKeys.DetachFromDisposeScope();
                gridValues[i] = computed[i].GridValues.DetachFromDisposeScope();
                keys[i] = torch.empty([rows, model.Options.Heads, 0, headWidth], dtype: memory.dtype, device: memory.device).DetachFromDisposeScope();
                values[i] = torch.empty([rows, model.Options.Heads, 0, headWidth], dtype: memory.dtype, device: memory.device).DetachFromDisposeScope();
            }
        }

        public (Tensor Logits, Tensor? Attention) Step(Tensor tokens)
        {
            var x = model.Embed(tokens.unsqueeze(1), position);
            Tensor? weights = null;
            for (var i = 0; i < keys.Length; i++)
            {
                // The last layer's cross-attention is the one nearest the word chosen, so it is the one reported.
                var last = i == keys.Length - 1;
                var (output, k, v, w) = model.layers[i].Step(x, keys[i], values[i], gridKeys[i], gridValues[i], gridWeights: last && !torch.is_grad_enabled());
                Replace(ref keys[i], k);
                Replace(ref values[i], v);
                x = output;
                if (last) weights = w;
            }
            position++;
            return (projection.Apply(x.squeeze(1)), weights);
        }

        public void Select(Tensor indices)
        {
            using var scope = torch.NewDisposeScope();
            foreach (var cache in new[] { gridKeys, gridValues, keys, values })
                for (var i = 0; i < cache.Length; i++) Replace(ref cache[i], cache[i].index_select(0, indices));
        }

        public void Dispose()
        {
            foreach (var cache in new[] { gridKeys, gridValues, keys, values })
                foreach (var tensor in cache) tensor?.Dispose();
            projection.Dispose();
        }

        private static void Replace(ref Tensor field, Tensor value)
        {
            var old = field;
            field = value.DetachFromDisposeScope();
            old.Dispose();
        }
    }
}

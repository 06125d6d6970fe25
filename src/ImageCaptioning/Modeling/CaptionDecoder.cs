
namespace ImageCaptioning.Modeling;

/// <summary>
/// Generates captions for a batch of images with a <see cref="CaptionModel"/>. Every strategy is batched over
/// images and carries the decoder state from step to step: each step feeds only the newest token, never the prefix.
/// </summary>
public sealed class CaptionDecoder
{
    private readonly CaptionModel model;

    /// <summary>Creates a decoder that starts captions with <paramref name="startId"/> and ends them at <paramref name="endId"/>.</summary>
    public CaptionDecoder(CaptionModel model, int startId, int endId)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        var vocabulary = model.Options.VocabularySize;
        if ((uint)startId >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(startId), startId, $"not a token id of the {vocabulary}-token vocabulary");
        if ((uint)endId >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(endId), endId, $"not a token id of the {vocabulary}-token vocabulary");
        (StartId, EndId) = (startId, endId);
    }

    /// <summary>The token every caption starts from.</summary>
    public int StartId { get; }

    /// <summary>The token that ends a caption.</summary>
    public int EndId { get; }

    /// <summary>Captions for each row of <paramref name="features"/> [N, D], in order.</summary>
    public IReadOnlyList<DecodedCaption> Decode(Tensor features, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        options ??= DecodingOptions.Greedy;
        if (features.ndim != 2 || features.size(1) != model.Options.FeatureDimension)
            throw new ArgumentException($"features must be [N, {model.Options.FeatureDimension}], got [{string.Join(", ", features.shape)}]", nameof(features));
        var sequences = StepDecoding.Run(model, () => new StepDecoder(model, model.Begin(features)), (int)features.size(0), features.device,
            model.Options.VocabularySize, StartId, EndId, options);
        return sequences.Select(s => new DecodedCaption(s.Tokens, s.LogProbability, s.Finished)).ToArray();
    }

    // The LSTM models' state behind the shared decoding loops.
    private sealed class StepDecoder(CaptionModel model, DecoderState state) : IStepDecoder
    {
        private DecoderState state = state;

        public (Tensor Logits, Tensor? Attention) Step(Tensor tokens)
        {
            var (logits, next) = model.Step(tokens, state);
            state.Dispose();
            state = next;
            return (logits, null);
        }

        public void Select(Tensor indices)
        {
            var selected = state.Select(indices);
            state.Dispose();
            state = selected;
        }

        public void Dispose() => state.Dispose();
    }
}

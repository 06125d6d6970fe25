
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
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            if (options.Seed is { } seed) torch.manual_seed(seed);
            return options.Strategy == DecodingStrategy.Beam ? BeamSearch.Run(model, features, StartId, EndId, options) : Sequential(features, options);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    // Greedy and sampling: one sequence per image, batched. A caption that ends leaves the batch (its state rows are
    // dropped), so the steps after most captions have ended cost only the rows still decoding.
    private IReadOnlyList<DecodedCaption> Sequential(Tensor features, DecodingOptions options)
    {
        var count = (int)features.size(0);
        var tokens = Enumerable.Range(0, count).Select(_ => new List<int>()).ToArray();
        var logProbabilities = new double[count];
        var finished = new bool[count];
        var active = Enumerable.Range(0, count).ToArray();   // the image of each state row
        var rows = count;                                    // state rows still decoding: active[..rows]
        var next = new long[count];
        var continuing = new long[count];                    // this step's rows that go on, as state row indices
        var chosenLogProbabilities = new float[count];
        Array.Fill(next, StartId);
        var state = model.Begin(features);
        try
        {
            for (var step = 0; step < options.MaxLength && rows > 0; step++)
            {
                using var scope = torch.NewDisposeScope();
                var input = TensorSpan.Create<long>(next.AsSpan(0, rows), [rows], features.device);
                var (logits, nextState) = model.Step(input, state);
                state.Dispose();
                state = nextState;
                // log p(chosen) = logit(chosen) - logsumexp(logits): no [N, V] log-softmax is materialised per step.
                var chosen = Choose(logits, options);
                chosen.CopyTo<long>(next.AsSpan(0, rows));
                if (options.ComputeLogProbability)
                    (logits.gather(1, chosen.unsqueeze(1)).squeeze(1) - logits.logsumexp(1)).CopyTo<float>(chosenLogProbabilities.AsSpan(0, rows));
                else
                    Array.Fill(chosenLogProbabilities, float.NaN);

                var kept = 0;
                for (var row = 0; row < rows; row++)
                {
                    var image = active[row];
                    logProbabilities[image] += chosenLogProbabilities[row];
                    if (next[row] == EndId) finished[image] = true;
                    else
                    {
                        tokens[image].Add((int)next[row]);
                        continuing[kept++] = row;
                    }
                }

                if (kept == rows) continue;
                var compacted = state.Select(TensorSpan.Create<long>(continuing.AsSpan(0, kept), [kept], features.device));
                state.Dispose();
                state = compacted;
                // In place: continuing is increasing, so row k reads from a row at or after k.
                for (var k = 0; k < kept; k++)
                {
                    next[k] = next[continuing[k]];
                    active[k] = active[continuing[k]];
                }

                rows = kept;
            }
        }
        finally
        {
            state.Dispose();
        }
        return Enumerable.Range(0, count).Select(i => new DecodedCaption(tokens[i], logProbabilities[i], finished[i])).ToArray();
    }

    private static Tensor Choose(Tensor logits, DecodingOptions options)
    {
        if (options.Strategy == DecodingStrategy.Greedy) return logits.argmax(1);
        var scaled = logits / options.Temperature;
        if (options.TopK <= 0 || options.TopK >= scaled.size(1)) return scaled.softmax(1).multinomial(1).squeeze(1);
        var (values, indices) = scaled.topk(options.TopK, 1);
        var pick = values.softmax(1).multinomial(1);
        return indices.gather(1, pick).squeeze(1);
    }
}

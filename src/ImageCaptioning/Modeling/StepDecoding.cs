namespace ImageCaptioning.Modeling;

/// <summary>
/// What the decoding loops drive: rows of sequences that each read one token per step, with the model's state for
/// every row inside. Owns that state.
/// </summary>
internal interface IStepDecoder : IDisposable
{
    /// <summary>
    /// Feeds one token per row ([rows] int64). Returns the next-token logits [rows, V] and, for a model that
    /// attends, the weights [rows, P] with which they were computed; both belong to the caller's dispose scope. The
    /// logits hold until the next step: without gradients on the CPU they are a view of the buffer that
    /// <see cref="DecodingProjection"/> overwrites each step, so a caller that keeps them clones them.
    /// </summary>
    (Tensor Logits, Tensor? Attention) Step(Tensor tokens);

    /// <summary>Keeps the rows at <paramref name="indices"/>, in that order: compaction, beam expansion and reordering.</summary>
    void Select(Tensor indices);
}

/// <summary>One decoded sequence: tokens without start and end, one attention row per token (none for models that do not attend).</summary>
internal sealed record DecodedSequence(IReadOnlyList<int> Tokens, IReadOnlyList<float[]> Attention, double LogProbability, bool Finished);

/// <summary>
/// Greedy, sampled and beam decoding over any <see cref="IStepDecoder"/>, so that every model shares one
/// implementation of each strategy. Every strategy is batched over images and carries the state from step to step.
/// </summary>
internal static class StepDecoding
{
    /// <summary>
    /// Decodes <paramref name="images"/> images in evaluation mode without gradients, restoring the model's mode after.
    /// <paramref name="begin"/> builds the decoder for one row per image once that mode is set.
    /// </summary>
    public static IReadOnlyList<DecodedSequence> Run(torch.nn.Module model, Func<IStepDecoder> begin, int images, Device device,
        int vocabulary, int startId, int endId, DecodingOptions options)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            if (options.Seed is { } seed) torch.manual_seed(seed);
            using var decoder = begin();
            return options.Strategy == DecodingStrategy.Beam
                ? BeamSearch.Run(decoder, images, device, vocabulary, startId, endId, options)
                : Sequential(decoder, images, device, startId, endId, options);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    // Greedy and sampling: one sequence per image, batched. A caption that ends leaves the batch (its state rows are
    // dropped), so the steps after most captions have ended cost only the rows still decoding.
    private static IReadOnlyList<DecodedSequence> Sequential(IStepDecoder decoder, int count, Device device, int startId, int endId, DecodingOptions options)
    {
        var tokens = Enumerable.Range(0, count).Select(_ => new List<int>()).ToArray();
        var attention = Enumerable.Range(0, count).Select(_ => new List<float[]>()).ToArray();
        var logProbabilities = new double[count];
        var finished = new bool[count];
        var active = Enumerable.Range(0, count).ToArray();   // the image of each state row
        var rows = count;                                    // state rows still decoding: active[..rows]
        var next = new long[count];
        var continuing = new long[count];                    // this step's rows that go on, as state row indices
        var chosenLogProbabilities = new float[count];
        float[]? weights = null;
        Array.Fill(next, startId);
        for (var step = 0; step < options.MaxLength && rows > 0; step++)
        {
            using var scope = torch.NewDisposeScope();
            var input = TensorSpan.Create<long>(next.AsSpan(0, rows), [rows], device);
            var (logits, alpha) = decoder.Step(input);
            var cells = alpha is null ? 0 : (int)alpha.size(1);
            if (alpha is not null)
            {
                weights ??= new float[count * cells];
                alpha.CopyTo<float>(weights.AsSpan(0, rows * cells));
            }
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
                if (next[row] == endId) finished[image] = true;
                else
                {
                    tokens[image].Add((int)next[row]);
                    if (weights is not null) attention[image].Add(weights.AsSpan(row * cells, cells).ToArray());
                    continuing[kept++] = row;
                }
            }

            if (kept == rows) continue;
            decoder.Select(TensorSpan.Create<long>(continuing.AsSpan(0, kept), [kept], device));
            // In place: continuing is increasing, so row k reads from a row at or after k.
            for (var k = 0; k < kept; k++)
            {
                next[k] = next[continuing[k]];
                active[k] = active[continuing[k]];
            }

            rows = kept;
        }
        return Enumerable.Range(0, count).Select(i => new DecodedSequence(tokens[i], attention[i], logProbabilities[i], finished[i])).ToArray();
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


namespace ImageCaptioning.Modeling;

/// <summary>
/// Batched beam search. Each image keeps BeamWidth live hypotheses; a hypothesis that emits the end token is
/// retired into the image's finished list, and an image is done once it has BeamWidth finished hypotheses or
/// the length limit is reached. If none finished, the best live hypothesis is returned (unfinished) rather than
/// failing — the case public implementations have crashed on. A hypothesis carries the attention row of each of
/// its tokens when the model attends, so the rows follow their beam through every reordering.
/// </summary>
internal static class BeamSearch
{
    // Elements of one group's log-probabilities: 16 MB of float32, half of glibc's largest mmap threshold.
    private const long GroupElements = 4L << 20;

    /// <summary>Replaces the group size in this async flow, so that tests can run small models in several groups.</summary>
    internal static AsyncLocal<long?> GroupElementsOverride { get; } = new();

    private sealed record Hypothesis(int[] Tokens, float[][] Attention, double LogProbability, bool Finished);

    public static IReadOnlyList<DecodedSequence> Run(IStepDecoder decoder, int images, Device device, int vocabulary, int startId, int endId, DecodingOptions options)
    {
        var width = options.BeamWidth;

        // Live beams, image-major: beam b of image i is row i * width + b. At step 0 only beam 0 is real: the
        // others start at -inf so the first expansion draws every candidate from one beam.
        var live = new Hypothesis[images * width];
        var scores = new float[images * width];
        for (var i = 0; i < live.Length; i++)
        {
            live[i] = new Hypothesis([], [], 0, false);
            scores[i] = i % width == 0 ? 0 : float.NegativeInfinity;
        }
        var finished = Enumerable.Range(0, images).Select(_ => new List<Hypothesis>()).ToArray();
        var done = new bool[images];
        var next = new long[images * width];
        Array.Fill(next, startId);

        var candidates = Math.Min(2 * width, width * vocabulary);
        var topScores = new float[images * candidates];
        var topIndices = new long[images * candidates];
        var origin = new long[images * width];
        float[]? weights = null;
        var cells = 0;

        using (var expandIndex = torch.arange(images, device: device).repeat_interleave(width, 0))
            decoder.Select(expandIndex);
        for (var step = 0; step < options.MaxLength && done.Contains(false); step++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                var (logits, alpha) = decoder.Step(TensorSpan.Create(next, [next.Length], device));
                if (alpha is not null)
                {
                    cells = (int)alpha.size(1);
                    weights ??= new float[images * width * cells];
                    alpha.CopyTo<float>(weights);
                }
                // In groups of images whose [rows, V] temporaries stay under glibc's 32 MB mmap threshold: a larger
                // block is mapped from the kernel and unmapped when freed, so each step would fault its pages in anew.
                var beamScores = TensorSpan.Create(scores, [scores.Length, 1], device);
                var perGroup = (int)Math.Clamp((GroupElementsOverride.Value ?? GroupElements) / ((long)width * vocabulary), 1, images);
                for (var first = 0; first < images; first += perGroup)
                {
                    var count = Math.Min(perGroup, images - first);
                    var total = logits.narrow(0, (long)first * width, (long)count * width).log_softmax(1)
                        .add_(beamScores.narrow(0, (long)first * width, (long)count * width));
                    var (values, indices) = total.view(count, width * vocabulary).topk(candidates, 1);
                    values.CopyTo<float>(topScores.AsSpan(first * candidates, count * candidates));
                    indices.CopyTo<long>(topIndices.AsSpan(first * candidates, count * candidates));
                }
            }

            var newLive = new Hypothesis[live.Length];
            for (var image = 0; image < images; image++)
            {
                var filled = 0;
                for (var k = 0; k < candidates && filled < width; k++)
                {
                    var score = topScores[image * candidates + k];
                    if (float.IsNegativeInfinity(score)) break;
                    var flat = topIndices[image * candidates + k];
                    var beam = image * width + (int)(flat / vocabulary);
                    var token = (int)(flat % vocabulary);
                    var parent = live[beam];
                    if (token == endId)
                    {
                        if (!done[image]) finished[image].Add(new Hypothesis(parent.Tokens, parent.Attention, score, true));
                        continue;
                    }
                    var slot = image * width + filled++;
                    float[][] attention = weights is null ? [] : [.. parent.Attention, weights.AsSpan(beam * cells, cells).ToArray()];
                    newLive[slot] = new Hypothesis([.. parent.Tokens, token], attention, score, false);
                    scores[slot] = score;
                    next[slot] = token;
                    origin[slot] = beam;
                }
                for (var slot = image * width + filled; slot < (image + 1) * width; slot++)
                {
                    newLive[slot] = live[image * width];
                    scores[slot] = float.NegativeInfinity;
                    next[slot] = endId;
                    origin[slot] = image * width;
                }
                if (finished[image].Count >= width) done[image] = true;
            }
            live = newLive;

            using var originTensor = TensorSpan.Create(origin, [origin.Length], device);
            decoder.Select(originTensor);
        }

        var results = new DecodedSequence[images];
        for (var image = 0; image < images; image++)
        {
            var pool = finished[image].Count > 0
                ? finished[image]
                : Enumerable.Range(image * width, width).Where(b => !float.IsNegativeInfinity(scores[b])).Select(b => live[b]).ToList();
            var best = pool.MaxBy(h => Normalised(h, options.LengthPenalty))!;
            results[image] = new DecodedSequence(best.Tokens, best.Attention, best.LogProbability, best.Finished);
        }
        return results;
    }

    // Length counts the end token when emitted, as the sequence the model scored.
    private static double Normalised(Hypothesis h, double penalty) =>
        h.LogProbability / Math.Pow(Math.Max(1, h.Tokens.Length + (h.Finished ? 1 : 0)), penalty);
}

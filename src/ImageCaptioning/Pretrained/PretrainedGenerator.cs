namespace ImageCaptioning.Pretrained;

/// <summary>A generated token sequence before decoding to text.</summary>
internal sealed record GeneratedSequence(IReadOnlyList<int> Tokens, double LogProbability, double Score, bool Finished);

/// <summary>
/// Hugging Face's greedy search and beam search (<c>BeamSearchScorer</c> with <c>BeamHypotheses</c>, as transformers
/// 4.36–4.47 run them) over a <see cref="GenerationSession"/>: the same candidates, the same length normalisation by
/// the generated length, the same stopping rule, so the same token ids.
/// </summary>
internal static class PretrainedGenerator
{
    public static IReadOnlyList<GeneratedSequence> Generate(PretrainedCaptionModel model, Tensor pixelValues, GenerationSettings settings,
        IReadOnlyList<int>? prompt = null, bool computeLogProbability = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var prefix = new List<int> { settings.DecoderStartId };
        if (prompt is not null) prefix.AddRange(prompt);
        if (prefix.Count >= settings.MaxLength)
            throw new ArgumentException($"the start and prompt tokens ({prefix.Count}) already reach max_length {settings.MaxLength}");
        if (model.MaxPositions is { } positions && settings.MaxLength > positions)
            throw new ArgumentException($"max_length {settings.MaxLength} is more than the decoder's {positions} positions");
        using var noGrad = torch.no_grad();
        return settings.NumBeams == 1
            ? Greedy(model, pixelValues, settings, prefix, computeLogProbability)
            : Beam(model, pixelValues, settings, prefix);
    }

    private static List<GeneratedSequence> Greedy(PretrainedCaptionModel model, Tensor pixelValues, GenerationSettings settings, List<int> prefix, bool scored)
    {
        var rows = (int)pixelValues.size(0);
        var device = pixelValues.device;
        using var session = model.Start(pixelValues, 1);
        var tokens = Enumerable.Range(0, rows).Select(_ => new List<int>()).ToArray();
        var logProbabilities = new double[rows];
        var finished = new bool[rows];
        using var outer = torch.NewDisposeScope();
        var input = torch.tensor(Enumerable.Repeat(prefix.Select(t => (long)t), rows).SelectMany(t => t).ToArray(), [rows, prefix.Count], device: device);
        for (var length = prefix.Count; length < settings.MaxLength; length++)
        {
            using var step = torch.NewDisposeScope();
            var logits = session.Next(input);
            var chosen = logits.argmax(1);
            var ids = chosen.cpu().data<long>().ToArray();
            double[]? chosenLogProbabilities = null;
            if (scored)
                chosenLogProbabilities = logits.log_softmax(1).gather(1, chosen.unsqueeze(1)).squeeze(1).to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (var r = 0; r < rows; r++)
            {
                if (finished[r])
                {
                    ids[r] = settings.PadId;
                    continue;
                }
                if (chosenLogProbabilities is not null) logProbabilities[r] += chosenLogProbabilities[r];
                if (settings.EndIds.Contains((int)ids[r])) finished[r] = true;
                else tokens[r].Add((int)ids[r]);
            }
            if (finished.All(f => f)) break;
            input = torch.tensor(ids, [rows, 1], device: device).MoveToOuterDisposeScope();
        }
        return [.. Enumerable.Range(0, rows).Select(r =>
        {
            var logProbability = scored ? logProbabilities[r] : double.NaN;
            return new GeneratedSequence(tokens[r], logProbability, logProbability, finished[r]);
        })];
    }

    private static List<GeneratedSequence> Beam(PretrainedCaptionModel model, Tensor pixelValues, GenerationSettings settings, List<int> prefix)
    {
        var images = (int)pixelValues.size(0);
        var beams = settings.NumBeams;
        var rows = images * beams;
        var device = pixelValues.device;
        var vocabulary = model.VocabularySize;
        using var session = model.Start(pixelValues, beams);
        var sequences = Enumerable.Range(0, rows).Select(_ => new List<int>(prefix)).ToArray();
        var hypotheses = Enumerable.Range(0, images).Select(_ => new BeamHypotheses(beams, settings.LengthPenalty, settings.EarlyStopping)).ToArray();
        var done = new bool[images];

        using var outer = torch.NewDisposeScope();
        // Only the first beam of each image starts live, so the first step's candidates are not all the same.
        var initial = new float[rows];
        for (var i = 0; i < rows; i++) initial[i] = i % beams == 0 ? 0f : -1e9f;
        var beamScores = torch.tensor(initial, device: device);
        var input = torch.tensor(Enumerable.Repeat(prefix.Select(t => (long)t), rows).SelectMany(t => t).ToArray(), [rows, prefix.Count], device: device);
        var length = prefix.Count;
        var candidates = 2 * beams;
        while (true)
        {
            using var step = torch.NewDisposeScope();
            var logits = session.Next(input);
            var scores = logits.log_softmax(1).add(beamScores.unsqueeze(1)).view(images, beams * vocabulary);
            var (topScores, topIndices) = torch.topk(scores, candidates, dim: 1, largest: true, sorted: true);
            var candidateScores = topScores.cpu().data<float>().ToArray();
            var candidateIndices = topIndices.cpu().data<long>().ToArray();

            var nextScores = new float[rows];
            var nextTokens = new long[rows];
            var nextRows = new long[rows];
            var generated = length + 1 - prefix.Count;
            for (var b = 0; b < images; b++)
            {
                if (done[b])
                {
                    for (var j = 0; j < beams; j++) (nextScores[b * beams + j], nextTokens[b * beams + j], nextRows[b * beams + j]) = (0f, settings.PadId, 0);
                    continue;
                }
                var kept = 0;
                for (var rank = 0; rank < candidates && kept < beams; rank++)
                {
                    var flat = candidateIndices[b * candidates + rank];
                    var token = (int)(flat % vocabulary);
                    var row = b * beams + (int)(flat / vocabulary);
                    var score = candidateScores[b * candidates + rank];
                    if (settings.EndIds.Contains(token))
                    {
                        // An end token ranked below the beam width is no better than the live beams: not a hypothesis.
                        if (rank >= beams) continue;
                        hypotheses[b].Add(sequences[row], score, generated, finished: true);
                    }
                    else
                    {
                        (nextScores[b * beams + kept], nextTokens[b * beams + kept], nextRows[b * beams + kept]) = (score, token, row);
                        kept++;
                    }
                }
                var best = candidateScores[b * candidates];
                for (var rank = 1; rank < candidates; rank++) best = Math.Max(best, candidateScores[b * candidates + rank]);
                done[b] = done[b] || hypotheses[b].IsDone(best, generated);
            }

            var previous = sequences;
            sequences = new List<int>[rows];
            for (var r = 0; r < rows; r++) sequences[r] = [.. previous[nextRows[r]], (int)nextTokens[r]];
            using (var order = torch.tensor(nextRows, device: device)) session.Reorder(order);
            beamScores = torch.tensor(nextScores, device: device).MoveToOuterDisposeScope();
            length++;
            if (done.All(d => d) || length >= settings.MaxLength) break;
            input = torch.tensor(nextTokens, [rows, 1], device: device).MoveToOuterDisposeScope();
        }

        var finalScores = beamScores.cpu().data<float>().ToArray();
        var results = new List<GeneratedSequence>(images);
        for (var b = 0; b < images; b++)
        {
            if (!done[b])
                for (var j = 0; j < beams; j++)
                    hypotheses[b].Add(sequences[b * beams + j], finalScores[b * beams + j], sequences[b * beams + j].Count - prefix.Count, finished: false);
            var (score, logProbability, tokens, finished) = hypotheses[b].Best();
            results.Add(new GeneratedSequence(tokens.Skip(prefix.Count).ToList(), logProbability, score, finished));
        }
        return results;
    }

    /// <summary>Hugging Face's <c>BeamHypotheses</c>: the best NumBeams finished sequences of one image.</summary>
    private sealed class BeamHypotheses(int beams, double lengthPenalty, bool earlyStopping)
    {
        private readonly List<(double Score, double LogProbability, List<int> Tokens, bool Finished)> kept = [];
        private double worst = 1e9;

        public void Add(List<int> tokens, float logProbability, int generatedLength, bool finished)
        {
            var score = logProbability / Math.Pow(generatedLength, lengthPenalty);
            if (kept.Count < beams || score > worst)
            {
                kept.Add((score, logProbability, [.. tokens], finished));
                if (kept.Count > beams)
                {
                    // As Python's sorted() of (score, index) pairs: the lowest score, and among equal ones the first added.
                    var order = kept.Select((h, i) => (h.Score, i)).OrderBy(p => p.Score).ThenBy(p => p.i).ToList();
                    kept.RemoveAt(order[0].i);
                    worst = order[1].Score;
                }
                else worst = Math.Min(score, worst);
            }
        }

        public bool IsDone(float bestLogProbability, int generatedLength)
        {
            if (kept.Count < beams) return false;
            if (earlyStopping) return true;
            return worst >= bestLogProbability / Math.Pow(generatedLength, lengthPenalty);
        }

        // The highest score; Python's sorted() is stable and pop() takes the last, so among equal scores the last added.
        public (double Score, double LogProbability, List<int> Tokens, bool Finished) Best()
        {
            var best = 0;
            for (var i = 1; i < kept.Count; i++)
                if (kept[i].Score >= kept[best].Score) best = i;
            return kept[best];
        }
    }
}

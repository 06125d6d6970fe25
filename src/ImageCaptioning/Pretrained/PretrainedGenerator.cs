namespace ImageCaptioning.Pretrained;

/// <summary>A generated token sequence before decoding to text.</summary>
internal sealed record GeneratedSequence(IReadOnlyList<int> Tokens, double LogProbability, double Score, bool Finished);

/// <summary>
/// Hugging Face's greedy search and both of its beam searches (<see cref="TransformersBeamSearch"/>) over a
/// <see cref="GenerationSession"/>: the same candidates, the same length normalisation by the generated length, the same
/// stopping rule, so the same token ids.
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
            : settings.BeamSearch == TransformersBeamSearch.Scorer
                ? ScorerBeam(model, pixelValues, settings, prefix)
                : VectorizedBeam(model, pixelValues, settings, prefix);
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
            long[] ids;
            float[]? chosenLogProbabilities = null;
            if (scored)
            {
                // The chosen token's log-softmax is its logit, the row's maximum, less the row's logsumexp: two
                // reductions instead of a [rows, V] log-softmax and a gather.
                var (top, chosen) = logits.max(1);
                ids = chosen.cpu().data<long>().ToArray();
                chosenLogProbabilities = top.sub_(logits.logsumexp(1)).cpu().data<float>().ToArray();
            }
            else ids = logits.argmax(1).cpu().data<long>().ToArray();
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

    // HF keeps max(2, 1 + end tokens) × beams candidates, so that NumBeams of them survive however many end.
    private static int CandidateCount(GenerationSettings settings) => Math.Max(2, 1 + settings.EndIds.Count) * settings.NumBeams;

    // One step's candidates: the top scores over beams × vocabulary of each image, best first, and their flat indices.
    private static (float[] Scores, long[] Indices) Candidates(GenerationSession session, Tensor input, Tensor beamScores, int images, int candidates)
    {
        using var step = torch.NewDisposeScope();
        var logits = session.Next(input);
        var scores = logits.log_softmax(1).add(beamScores.unsqueeze(1)).view(images, -1);
        var (topScores, topIndices) = torch.topk(scores, candidates, dim: 1, largest: true, sorted: true);
        return (topScores.cpu().data<float>().ToArray(), topIndices.cpu().data<long>().ToArray());
    }

    private static List<GeneratedSequence> ScorerBeam(PretrainedCaptionModel model, Tensor pixelValues, GenerationSettings settings, List<int> prefix)
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
        var candidates = CandidateCount(settings);
        while (true)
        {
            using var step = torch.NewDisposeScope();
            var (candidateScores, candidateIndices) = Candidates(session, input, beamScores, images, candidates);

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

    // transformers' vectorised _beam_search, one image at a time on the CPU: the float arithmetic is the same (scores and
    // their length normalisation in float32), and ties between equal scores go to the earlier candidate.
    private static List<GeneratedSequence> VectorizedBeam(PretrainedCaptionModel model, Tensor pixelValues, GenerationSettings settings, List<int> prefix)
    {
        const float Masked = -1.0e9f;
        var images = (int)pixelValues.size(0);
        var beams = settings.NumBeams;
        var rows = images * beams;
        var device = pixelValues.device;
        var vocabulary = model.VocabularySize;
        var lengthPenalty = settings.LengthPenalty;
        using var session = model.Start(pixelValues, beams);
        var sequences = Enumerable.Range(0, rows).Select(_ => new List<int>(prefix)).ToArray();
        var running = new float[rows];
        for (var i = 0; i < rows; i++) running[i] = i % beams == 0 ? 0f : Masked;
        // Each image's NumBeams best finished hypotheses, best first; an empty slot scores Masked.
        var finished = Enumerable.Range(0, images).Select(_ => Enumerable.Repeat(FinishedBeam.Empty, beams).ToList()).ToArray();
        var improvable = Enumerable.Repeat(true, images).ToArray();

        using var outer = torch.NewDisposeScope();
        var beamScores = torch.tensor(running, device: device);
        var input = torch.tensor(Enumerable.Repeat(prefix.Select(t => (long)t), rows).SelectMany(t => t).ToArray(), [rows, prefix.Count], device: device);
        var candidates = CandidateCount(settings);
        for (var length = prefix.Count; length < settings.MaxLength; length++)
        {
            using var step = torch.NewDisposeScope();
            var (candidateScores, candidateIndices) = Candidates(session, input, beamScores, images, candidates);
            var generated = length + 1 - prefix.Count;
            var lastToken = length + 1 >= settings.MaxLength;
            var normaliser = (float)Math.Pow(generated, lengthPenalty);
            var nextTokens = new long[rows];
            var nextRows = new long[rows];
            var allStop = true;
            for (var b = 0; b < images; b++)
            {
                var offset = b * candidates;
                var tokens = new int[candidates];
                var origins = new int[candidates];
                var stops = new bool[candidates];
                var runningScores = new float[candidates];
                for (var rank = 0; rank < candidates; rank++)
                {
                    var flat = candidateIndices[offset + rank];
                    tokens[rank] = (int)(flat % vocabulary);
                    origins[rank] = b * beams + (int)(flat / vocabulary);
                    // The stopping criteria: an end token, or the token that reaches max_length.
                    stops[rank] = lastToken || settings.EndIds.Contains(tokens[rank]);
                    allStop &= stops[rank];
                    runningScores[rank] = stops[rank] ? candidateScores[offset + rank] + Masked : candidateScores[offset + rank];
                }

                // _get_running_beams_for_next_iteration: the best candidates that did not stop.
                var survivors = Enumerable.Range(0, candidates).OrderByDescending(rank => runningScores[rank]).Take(beams).ToArray();
                for (var j = 0; j < beams; j++)
                {
                    var rank = survivors[j];
                    (running[b * beams + j], nextTokens[b * beams + j], nextRows[b * beams + j]) = (runningScores[rank], tokens[rank], origins[rank]);
                }

                // _update_finished_beams: candidates among the top NumBeams that stopped join the finished ones, unless
                // this image is full under early stopping or can no longer improve.
                var slots = finished[b];
                var full = slots.TrueForAll(slot => slot.Filled);
                if (improvable[b] && !(full && settings.EarlyStopping))
                {
                    var merged = new List<FinishedBeam>(slots);
                    for (var rank = 0; rank < beams; rank++)
                    {
                        if (!stops[rank]) continue;
                        var ended = settings.EndIds.Contains(tokens[rank]);
                        List<int> hypothesis = ended ? [.. sequences[origins[rank]]] : [.. sequences[origins[rank]], tokens[rank]];
                        merged.Add(new FinishedBeam(candidateScores[offset + rank] / normaliser, candidateScores[offset + rank], hypothesis, ended, Filled: true));
                    }
                    finished[b] = slots = [.. merged.OrderByDescending(slot => slot.Score).Take(beams)];
                }
            }

            var previous = sequences;
            sequences = new List<int>[rows];
            for (var r = 0; r < rows; r++) sequences[r] = [.. previous[nextRows[r]], (int)nextTokens[r]];
            using (var order = torch.tensor(nextRows, device: device)) session.Reorder(order);

            // _check_early_stop_heuristic at the new length (the generated one, as the normaliser): the best running beam
            // against the worst finished one.
            for (var b = 0; b < images; b++)
            {
                var slots = finished[b];
                var worst = slots.TrueForAll(slot => slot.Filled) ? slots.Min(slot => slot.Score) : Masked;
                improvable[b] &= running[b * beams] / normaliser > worst;
            }
            // _beam_search_has_unfinished_sequences
            var openBeam = !(settings.EarlyStopping && finished.All(slots => slots.TrueForAll(slot => slot.Filled)));
            if (!improvable.Any(i => i) || !openBeam || allStop) break;
            beamScores = torch.tensor(running, device: device).MoveToOuterDisposeScope();
            input = torch.tensor(nextTokens, [rows, 1], device: device).MoveToOuterDisposeScope();
        }

        return [.. finished.Select(slots =>
        {
            var best = slots[0];
            return new GeneratedSequence(best.Tokens.Skip(prefix.Count).ToList(), best.LogProbability, best.Score, best.Ended);
        })];
    }

    /// <summary>A finished hypothesis of the vectorised search: its normalised score, its summed log-probability, its tokens.</summary>
    private sealed record FinishedBeam(float Score, float LogProbability, List<int> Tokens, bool Ended, bool Filled)
    {
        public static readonly FinishedBeam Empty = new(-1.0e9f, -1.0e9f, [], Ended: false, Filled: false);
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

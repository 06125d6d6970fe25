namespace ImageCaptioning.Evaluation;

public static partial class Bleu
{
    /// <summary>The sums BLEU is computed from; a corpus's statistics are the sums of its sentences'.</summary>
    internal sealed class BleuStatistics
    {
        private readonly long[] _matches;
        private readonly long[] _candidates;
        private long _hypothesisLength;
        private long _referenceLength;

        public BleuStatistics(int maxOrder)
        {
            _matches = new long[maxOrder];
            _candidates = new long[maxOrder];
        }

        public int MaxOrder => _matches.Length;

        public static BleuStatistics Of(int[] hypothesis, int[][] references, int maxOrder)
        {
            var statistics = new BleuStatistics(maxOrder);
            statistics.Add(hypothesis, references);
            return statistics;
        }

        public void Add(BleuStatistics other)
        {
            for (var i = 0; i < _matches.Length; i++)
            {
                _matches[i] += other._matches[i];
                _candidates[i] += other._candidates[i];
            }
            _hypothesisLength += other._hypothesisLength;
            _referenceLength += other._referenceLength;
        }

        /// <summary>NLTK's <c>modified_precision</c> for every order, and <c>closest_ref_length</c>.</summary>
        public void Add(int[] hypothesis, int[][] references)
        {
            var maxOrder = _matches.Length;
            var hypothesisCounts = NGram.Count(hypothesis, maxOrder);

            // The clip of an n-gram is its highest count in any single reference.
            var maxReferenceCounts = new Dictionary<NGram, int>(hypothesisCounts.Count);
            foreach (var reference in references)
            {
                var referenceCounts = NGram.Count(reference, maxOrder);
                foreach (var ngram in hypothesisCounts.Keys)
                {
                    if (referenceCounts.TryGetValue(ngram, out var count)
                        && count > maxReferenceCounts.GetValueOrDefault(ngram))
                        maxReferenceCounts[ngram] = count;
                }
            }

            Span<long> totals = stackalloc long[maxOrder];
            Span<long> clipped = stackalloc long[maxOrder];
            foreach (var (ngram, count) in hypothesisCounts)
            {
                totals[ngram.Length - 1] += count;
                clipped[ngram.Length - 1] += Math.Min(count, maxReferenceCounts.GetValueOrDefault(ngram));
            }
            for (var i = 0; i < maxOrder; i++)
            {
                _matches[i] += clipped[i];
                // NLTK's max(1, ...) keeps the denominator positive when the hypothesis is shorter than the order.
                _candidates[i] += Math.Max(1, totals[i]);
            }

            _hypothesisLength += hypothesis.Length;
            _referenceLength += ClosestReferenceLength(references, hypothesis.Length);
        }

        public BleuScore ToScore(BleuOptions options)
        {
            if (options.MaxOrder > MaxOrder)
                throw new ArgumentException($"statistics of order {MaxOrder} cannot give BLEU-{options.MaxOrder}", nameof(options));
            var maxOrder = options.MaxOrder;
            var brevityPenalty = BrevityPenalty(_referenceLength, _hypothesisLength);
            var scores = new double[maxOrder];

            // NLTK returns 0 outright when no unigram matches, before any smoothing.
            if (_matches[0] != 0)
            {
                Span<double> logPrecisions = stackalloc double[maxOrder];
                for (var i = 0; i < maxOrder; i++)
                    logPrecisions[i] = Math.Log(SmoothedPrecision(_matches[i], _candidates[i], options));

                Span<double> weighted = stackalloc double[maxOrder];
                for (var order = 1; order <= maxOrder; order++)
                {
                    var weight = 1.0 / order;
                    for (var i = 0; i < order; i++) weighted[i] = weight * logPrecisions[i];
                    scores[order - 1] = brevityPenalty * Math.Exp(ExactSum.Sum(weighted[..order]));
                }
            }

            return new BleuScore(options.Smoothing, scores, _matches[..maxOrder], _candidates[..maxOrder],
                brevityPenalty, _hypothesisLength, _referenceLength);
        }

        /// <summary>
        /// The precision as the float NLTK takes the logarithm of: the integer ratio correctly rounded (what
        /// <c>float(Fraction)</c> gives), or the smoothing's stand-in for a zero numerator.
        /// </summary>
        private static double SmoothedPrecision(long matches, long candidates, BleuOptions options)
        {
            if (matches != 0) return (double)matches / candidates;
            return options.Smoothing switch
            {
                BleuSmoothing.Method1 => options.SmoothingEpsilon / candidates,
                _ => ZeroPrecisionStandIn,
            };
        }

        private static int ClosestReferenceLength(int[][] references, int hypothesisLength)
        {
            var closest = references[0].Length;
            for (var r = 1; r < references.Length; r++)
            {
                var length = references[r].Length;
                var distance = Math.Abs(length - hypothesisLength);
                var closestDistance = Math.Abs(closest - hypothesisLength);
                if (distance < closestDistance || (distance == closestDistance && length < closest)) closest = length;
            }
            return closest;
        }

        private static double BrevityPenalty(long referenceLength, long hypothesisLength)
        {
            if (hypothesisLength > referenceLength) return 1.0;
            if (hypothesisLength == 0) return 0.0;
            return Math.Exp(1.0 - (double)referenceLength / hypothesisLength);
        }
    }
}

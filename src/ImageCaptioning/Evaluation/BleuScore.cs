using System.Collections.ObjectModel;
using System.Globalization;

namespace ImageCaptioning.Evaluation;

/// <summary>
/// A BLEU result: the cumulative scores BLEU-1..N and the corpus statistics they were computed from. Immutable.
/// </summary>
public sealed class BleuScore
{
    internal BleuScore(BleuSmoothing smoothing, double[] scores, long[] matchCounts, long[] candidateCounts,
        double brevityPenalty, long hypothesisLength, long referenceLength)
    {
        Smoothing = smoothing;
        Scores = new ReadOnlyCollection<double>(scores);
        MatchCounts = new ReadOnlyCollection<long>(matchCounts);
        CandidateCounts = new ReadOnlyCollection<long>(candidateCounts);
        var precisions = new double[matchCounts.Length];
        for (var i = 0; i < precisions.Length; i++)
            precisions[i] = candidateCounts[i] == 0 ? 0.0 : (double)matchCounts[i] / candidateCounts[i];
        Precisions = new ReadOnlyCollection<double>(precisions);
        BrevityPenalty = brevityPenalty;
        HypothesisLength = hypothesisLength;
        ReferenceLength = referenceLength;
    }

    /// <summary>The highest n-gram order scored.</summary>
    public int MaxOrder => Scores.Count;

    /// <summary>The smoothing the scores were computed with.</summary>
    public BleuSmoothing Smoothing { get; }

    /// <summary>The cumulative scores: element n-1 is BLEU-n, the geometric mean of the precisions of orders 1..n times the brevity penalty.</summary>
    public IReadOnlyList<double> Scores { get; }

    /// <summary>BLEU-1.</summary>
    public double Bleu1 => Score(1);

    /// <summary>BLEU-2; throws when <see cref="MaxOrder"/> is below 2.</summary>
    public double Bleu2 => Score(2);

    /// <summary>BLEU-3; throws when <see cref="MaxOrder"/> is below 3.</summary>
    public double Bleu3 => Score(3);

    /// <summary>BLEU-4; throws when <see cref="MaxOrder"/> is below 4.</summary>
    public double Bleu4 => Score(4);

    /// <summary>Element n-1: the clipped n-gram matches summed over the corpus (the modified precision's numerator).</summary>
    public IReadOnlyList<long> MatchCounts { get; }

    /// <summary>
    /// Element n-1: the hypothesis n-grams summed over the corpus (the modified precision's denominator). As in NLTK a
    /// hypothesis contributes at least 1 to every order, even when it is shorter than n.
    /// </summary>
    public IReadOnlyList<long> CandidateCounts { get; }

    /// <summary>Element n-1: the unsmoothed modified n-gram precision, <see cref="MatchCounts"/> / <see cref="CandidateCounts"/>.</summary>
    public IReadOnlyList<double> Precisions { get; }

    /// <summary>exp(1 - r/c) when the hypotheses are shorter than the references, 1 otherwise, 0 for empty hypotheses.</summary>
    public double BrevityPenalty { get; }

    /// <summary>The total hypothesis length c, in tokens.</summary>
    public long HypothesisLength { get; }

    /// <summary>The effective reference length r: per hypothesis the closest reference length (the shorter on a tie), summed.</summary>
    public long ReferenceLength { get; }

    /// <summary>BLEU-<paramref name="order"/>, for an order between 1 and <see cref="MaxOrder"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The order was not scored.</exception>
    public double Score(int order)
    {
        if (order < 1 || order > MaxOrder)
            throw new ArgumentOutOfRangeException(nameof(order), order, $"order must be between 1 and the scored maximum order {MaxOrder}");
        return Scores[order - 1];
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Join(", ", Scores.Select((score, i) => string.Create(CultureInfo.InvariantCulture, $"BLEU-{i + 1} {score:F4}")))
        + string.Create(CultureInfo.InvariantCulture, $" (BP {BrevityPenalty:F4}, c {HypothesisLength}, r {ReferenceLength})");
}

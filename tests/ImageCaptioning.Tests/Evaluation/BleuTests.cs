using ImageCaptioning.Evaluation;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

[TestFixture]
public sealed class BleuTests
{
    private static string[] Words(string sentence) => sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public void IdenticalCorpusScoresOneAtEveryOrder()
    {
        string[][] hypotheses = [Words("a dog runs on the grass"), Words("two cats sleep on a sofa")];
        string[][][] references = [[hypotheses[0], Words("a dog")], [hypotheses[1]]];

        var score = Bleu.Corpus(hypotheses, references);

        Assert.That(score.Scores, Is.EqualTo(new[] { 1.0, 1.0, 1.0, 1.0 }));
        Assert.That(score.BrevityPenalty, Is.EqualTo(1.0));
        Assert.That(score.HypothesisLength, Is.EqualTo(12));
        Assert.That(score.ReferenceLength, Is.EqualTo(12));
    }

    [Test]
    public void ModifiedPrecisionClipsRepeatedWordsByTheirMostGenerousReference()
    {
        // Papineni's example: "the" x7 against references with 2 and 1 "the" earns 2 of 7.
        var score = Bleu.Sentence(Words("the the the the the the the"),
            [Words("the cat is on the mat"), Words("there is a cat on the mat")], new BleuOptions { MaxOrder = 1 });

        Assert.That(score.MatchCounts[0], Is.EqualTo(2));
        Assert.That(score.CandidateCounts[0], Is.EqualTo(7));
        Assert.That(score.Bleu1, Is.EqualTo(2.0 / 7.0));
    }

    [Test]
    public void ClosestReferenceLengthPrefersTheShorterOnATie()
    {
        // Hypothesis of 12 with references of 13 and 11: r = 11 < c, so no brevity penalty.
        var score = Bleu.Sentence(Enumerable.Repeat("a", 12).ToArray(),
            [Enumerable.Repeat("a", 13).ToArray(), Enumerable.Repeat("a", 11).ToArray()]);

        Assert.That(score.ReferenceLength, Is.EqualTo(11));
        Assert.That(score.BrevityPenalty, Is.EqualTo(1.0));
    }

    [Test]
    public void EmptyHypothesesScoreZeroWithZeroBrevityPenalty()
    {
        var score = Bleu.Corpus([Array.Empty<string>()], [[Words("a dog")]], new BleuOptions { Smoothing = BleuSmoothing.Method1 });

        Assert.That(score.Scores, Is.All.EqualTo(0.0));
        Assert.That(score.BrevityPenalty, Is.EqualTo(0.0));
        Assert.That(score.CandidateCounts, Is.All.EqualTo(1), "NLTK counts at least one candidate per order and sentence");
    }

    [Test]
    public void EmptyCorpusScoresZero()
    {
        var score = Bleu.Corpus(Array.Empty<string[]>(), Array.Empty<string[][]>());

        Assert.That(score.Scores, Is.All.EqualTo(0.0));
        Assert.That(score.Precisions, Is.All.EqualTo(0.0));
    }

    [Test]
    public void MaxOrderLimitsTheScoredOrders()
    {
        var score = Bleu.Sentence(Words("a b c"), [Words("a b c")], new BleuOptions { MaxOrder = 2 });

        Assert.That(score.MaxOrder, Is.EqualTo(2));
        Assert.That(score.Bleu2, Is.EqualTo(1.0));
        Assert.That(() => score.Bleu3, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("maximum order 2"));
    }

    [Test]
    public void MismatchedCountsAreRejectedWithBothCounts()
    {
        Assert.That(() => Bleu.Corpus([Words("a b"), Words("c")], [[Words("a b")]]),
            Throws.ArgumentException.With.Message.Contains("2 hypotheses but 1 reference lists"));
    }

    [Test]
    public void AHypothesisWithoutReferencesIsRejectedByIndex()
    {
        Assert.That(() => Bleu.Corpus([Words("a b"), Words("c")], [[Words("a b")], []]),
            Throws.ArgumentException.With.Message.Contains("The reference list of item 1 is empty"));
    }

    [Test]
    public void NullTokensAreRejectedWithTheirPosition()
    {
        Assert.That(() => Bleu.Corpus([["a", null!]], [[Words("a b")]]),
            Throws.ArgumentException.With.Message.Contains("Token 1 of the hypothesis of item 0 is null"));
        Assert.That(() => Bleu.Corpus([Words("a")], [[Words("a b"), null!]]),
            Throws.ArgumentException.With.Message.Contains("Reference 1 of item 0 is null"));
    }

    [TestCase(0)]
    [TestCase(BleuOptions.MaxSupportedOrder + 1)]
    public void OutOfRangeMaxOrderIsRejected(int maxOrder) =>
        Assert.That(() => new BleuOptions { MaxOrder = maxOrder }, Throws.TypeOf<ArgumentOutOfRangeException>());

    [TestCase(0.0)]
    [TestCase(double.NaN)]
    public void NonPositiveEpsilonIsRejected(double epsilon) =>
        Assert.That(() => new BleuOptions { SmoothingEpsilon = epsilon }, Throws.TypeOf<ArgumentOutOfRangeException>());
}

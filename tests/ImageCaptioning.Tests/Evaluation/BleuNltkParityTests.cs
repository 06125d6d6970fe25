using System.Globalization;
using System.Text.Json;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

/// <summary>
/// BLEU against python3-nltk 3.8 run in the test on 245 seeded random corpora, in one script invocation.
/// </summary>
[TestFixture]
public sealed class BleuNltkParityTests
{
    private const double Tolerance = 1e-9;
    private static readonly BleuOptions Method1 = new() { Smoothing = BleuSmoothing.Method1 };

    private List<TestCorpus> _corpora = null!;
    private JsonElement[] _nltk = null!;

    [OneTimeSetUp]
    public void RunNltk()
    {
        PythonReference.Require("nltk");
        _corpora = RandomCorpora.Generate(seed: 20240505);
        using var temp = new TempDirectory();
        var input = temp.File("corpora.json");
        RandomCorpora.WriteJson(_corpora, input);
        var output = PythonReference.Run("eval_bleu_nltk.py", input);
        _nltk = JsonDocument.Parse(output).RootElement.EnumerateArray().ToArray();
        Assert.That(_nltk, Has.Length.EqualTo(_corpora.Count), "NLTK answered a different number of corpora");
    }

    [Test]
    public void CorpusBleuWithoutSmoothingEqualsNltk() => AssertScores(BleuOptions.Default, "none");

    [Test]
    public void CorpusBleuWithMethod1EqualsNltk() => AssertScores(Method1, "method1");

    [Test]
    public void CorpusStatisticsEqualNltk()
    {
        var failures = new List<string>();
        for (var c = 0; c < _corpora.Count; c++)
        {
            var score = Bleu.Corpus(_corpora[c].Hypotheses, _corpora[c].References);
            var expected = _nltk[c];
            var expectedMatches = expected.GetProperty("matches").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var expectedCandidates = expected.GetProperty("candidates").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (!score.MatchCounts.SequenceEqual(expectedMatches) || !score.CandidateCounts.SequenceEqual(expectedCandidates)
                || score.HypothesisLength != expected.GetProperty("hyp_len").GetInt64()
                || score.ReferenceLength != expected.GetProperty("ref_len").GetInt64()
                || Math.Abs(score.BrevityPenalty - expected.GetProperty("bp").GetDouble()) > Tolerance)
            {
                failures.Add($"{Describe(c)}: matches {string.Join(",", score.MatchCounts)} vs {string.Join(",", expectedMatches)}, "
                    + $"candidates {string.Join(",", score.CandidateCounts)} vs {string.Join(",", expectedCandidates)}, "
                    + $"c {score.HypothesisLength} r {score.ReferenceLength} bp {score.BrevityPenalty:R} vs {expected}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void SentenceBleuWithMethod1EqualsNltk()
    {
        var failures = new List<string>();
        var compared = 0;
        for (var c = 0; c < _corpora.Count; c++)
        {
            var expected = _nltk[c].GetProperty("sentence_method1").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (var i = 0; i < expected.Length; i++)
            {
                var actual = Bleu.Sentence(_corpora[c].Hypotheses[i], _corpora[c].References[i], Method1).Bleu4;
                compared++;
                if (!(Math.Abs(actual - expected[i]) <= Tolerance))
                    failures.Add($"{Describe(c)} item {i}: {actual:R} vs NLTK {expected[i]:R}");
            }
        }
        Assert.That(failures, Is.Empty);
        Assert.That(compared, Is.GreaterThan(500));
    }

    [Test]
    public void GeneratedCorporaCoverTheEdgeCases()
    {
        double Nltk(int c, string smoothing, int order) => _nltk[c].GetProperty(smoothing)[order - 1].GetDouble();
        var indices = Enumerable.Range(0, _corpora.Count).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(indices.Count(c => Nltk(c, "none", 1) == 0), Is.GreaterThanOrEqualTo(30), "corpora without any unigram match");
            Assert.That(indices.Count(c => Nltk(c, "none", 1) > 0 && Nltk(c, "none", 4) < 1e-30), Is.GreaterThanOrEqualTo(20),
                "corpora with unigram matches but no 4-gram match");
            Assert.That(indices.Count(c => Nltk(c, "method1", 4) != Nltk(c, "none", 4) && Nltk(c, "none", 1) > 0), Is.GreaterThanOrEqualTo(20),
                "corpora where smoothing changes BLEU-4");
            Assert.That(indices.Count(c => _nltk[c].GetProperty("bp").GetDouble() is > 0 and < 1), Is.GreaterThanOrEqualTo(50),
                "corpora with a brevity penalty");
            Assert.That(indices.Count(c => _nltk[c].GetProperty("bp").GetDouble() == 1), Is.GreaterThanOrEqualTo(30),
                "corpora without brevity penalty");
            Assert.That(indices.Count(c => Nltk(c, "none", 4) == 1), Is.GreaterThanOrEqualTo(5), "perfect corpora");
        });
    }

    private void AssertScores(BleuOptions options, string smoothing)
    {
        var failures = new List<string>();
        var exact = 0;
        var maxDifference = 0.0;
        for (var c = 0; c < _corpora.Count; c++)
        {
            var score = Bleu.Corpus(_corpora[c].Hypotheses, _corpora[c].References, options);
            var expected = _nltk[c].GetProperty(smoothing).EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (var order = 1; order <= 4; order++)
            {
                var difference = Math.Abs(score.Score(order) - expected[order - 1]);
                maxDifference = Math.Max(maxDifference, difference);
                if (score.Score(order).Equals(expected[order - 1])) exact++;
                if (!(difference <= Tolerance))
                    failures.Add($"{Describe(c)} BLEU-{order}: {score.Score(order):R} vs NLTK {expected[order - 1]:R}");
            }
        }
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{smoothing}: {exact}/{_corpora.Count * 4} scores bit-identical to NLTK, max |difference| {maxDifference:R}"));
        Assert.That(failures, Is.Empty);
    }

    private string Describe(int c) => $"corpus {c} ({_corpora[c].Case}, {_corpora[c].Hypotheses.Length} items)";
}

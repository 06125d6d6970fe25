using System.Text.Json;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

[TestFixture]
public sealed class CiderDTests
{
    private static string[] Words(string sentence) => sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Two images: "a dog runs" against ["a dog runs"], and "a cat" against ["a cat sleeps"].
    /// <code>
    /// N = 2, so ln N = ln 2. Document frequencies (images whose references contain the n-gram):
    ///   "a" -> 2; every other reference n-gram ("dog", "runs", "cat", "sleeps", "a dog", "dog runs", "a cat",
    ///   "cat sleeps", "a dog runs", "a cat sleeps") -> 1.
    /// idf = ln 2 - ln max(1, df):  "a" -> 0;  all others -> ln 2 (write l = ln 2).
    ///
    /// Image 1, hypothesis = reference:
    ///   n=1: g = {a: 0, dog: l, runs: l}, |g| = √2·l; clipped dot = l² + l² = 2l²  -> 2l² / (√2 l · √2 l) = 1
    ///   n=2: g = {a dog: l, dog runs: l}                                          -> 1
    ///   n=3: g = {a dog runs: l}                                                   -> 1
    ///   n=4: no 4-grams, norms 0, dot 0                                            -> 0
    ///   lengths (bigram counts) 2 and 2: δ = 0, penalty 1
    ///   CIDEr-D = 10 · (1 + 1 + 1 + 0) / 4 / 1 reference = 7.5
    /// Image 2:
    ///   n=1: hyp {a: 0, cat: l}, |·| = l; ref {a: 0, cat: l, sleeps: l}, |·| = √2·l; dot = min(l,l)·l = l²
    ///        -> l² / (l · √2 l) = 1/√2
    ///   n=2: hyp {a cat: l}, |·| = l; ref {a cat: l, cat sleeps: l}, |·| = √2·l    -> 1/√2
    ///   n=3, n=4: the hypothesis has none, norm 0                                  -> 0
    ///   lengths 1 and 2: δ = -1, penalty exp(-1/(2·6²)) = exp(-1/72)
    ///   CIDEr-D = 10 · (2/√2) · exp(-1/72) / 4 = 2.5·√2·exp(-1/72) ≈ 3.486769
    /// Corpus = (7.5 + 2.5·√2·exp(-1/72)) / 2 ≈ 5.493384
    /// </code>
    /// </summary>
    [Test]
    public void HandComputedTwoImageCorpus()
    {
        var score = CiderD.Compute(
            [Words("a dog runs"), Words("a cat")],
            [[Words("a dog runs")], [Words("a cat sleeps")]]);

        var image2 = 2.5 * Math.Sqrt(2) * Math.Exp(-1.0 / 72);
        Assert.That(score.ImageScores[0], Is.EqualTo(7.5).Within(1e-12));
        Assert.That(score.ImageScores[1], Is.EqualTo(image2).Within(1e-12));
        Assert.That(score.Score, Is.EqualTo((7.5 + image2) / 2).Within(1e-12));
    }

    /// <summary>
    /// Three images, one with two references and a hypothesis that repeats a word, to exercise clipping:
    /// "dog dog" against ["a dog", "a cat"]; "a cat" against ["a cat"]; "birds fly" against ["birds fly"].
    /// <code>
    /// N = 3. df: "a" 2 (images 1, 2), "cat" 2, "a cat" 2; "dog", "a dog", "birds", "fly", "birds fly" 1.
    /// Write L = ln 3 and M = ln 3 - ln 2 = ln 1.5. idf: a, cat, "a cat" -> M; dog, "a dog", birds, fly, "birds fly" -> L;
    /// "dog dog" is in no reference: df 0 counts as 1, idf L.
    ///
    /// Image 1, hypothesis "dog dog": n=1 g = {dog: 2L} (tf 2), |·| = 2L; n=2 g = {dog dog: L}; length 1 bigram.
    ///   reference "a dog": n=1 {a: M, dog: L}, |·| = √(M² + L²); n=2 {a dog: L}; length 1, δ = 0.
    ///     n=1: clipped dot = min(2L, L)·L = L²  -> L² / (2L·√(M²+L²)) = L / (2√(M²+L²))
    ///          (unclipped it would be 2L·L, twice as much: repeating "dog" must not pay)
    ///     n=2: "dog dog" is not in the reference -> 0;  n=3, n=4 -> 0
    ///   reference "a cat": no shared n-gram -> 0 at every order; δ = 0.
    ///   CIDEr-D = 10 · (L / (2√(M²+L²))) / 4 / 2 references = 5L / (8√(M²+L²)) ≈ 0.586341
    /// Image 2, "a cat" = its reference: n=1 {a: M, cat: M} -> 2M²/(2M²) = 1; n=2 {a cat: M} -> 1; n=3, 4 -> 0.
    ///   CIDEr-D = 10 · 2/4 = 5
    /// Image 3, "birds fly" = its reference: likewise 5.
    /// Corpus = (5L / (8√(M²+L²)) + 10) / 3 ≈ 3.528780
    /// </code>
    /// </summary>
    [Test]
    public void HandComputedCorpusWithClippingAndTwoReferences()
    {
        var score = CiderD.Compute(
            [Words("dog dog"), Words("a cat"), Words("birds fly")],
            [[Words("a dog"), Words("a cat")], [Words("a cat")], [Words("birds fly")]]);

        var l = Math.Log(3);
        var m = Math.Log(1.5);
        var image1 = 5 * l / (8 * Math.Sqrt(m * m + l * l));
        Assert.That(score.ImageScores, Is.EqualTo(new[] { image1, 5.0, 5.0 }).Within(1e-12));
        Assert.That(score.Score, Is.EqualTo((image1 + 10) / 3).Within(1e-12));
    }

    [Test]
    public void ASingleImageCorpusScoresZeroBecauseEveryIdfIsZero()
    {
        // ln N = ln 1 = 0 and every reference n-gram has df 1: all weights are 0, as in coco-caption.
        var score = CiderD.Compute([Words("a dog runs")], [[Words("a dog runs")]]);

        Assert.That(score.ImageScores, Is.EqualTo(new[] { 0.0 }));
    }

    [Test]
    public void TheLengthPenaltyUsesSigma()
    {
        // Image 1 of the first hand-computed corpus is a perfect match (δ = 0) and unaffected; image 2 has δ = -1.
        string[][] hypotheses = [Words("a dog runs"), Words("a cat")];
        string[][][] references = [[Words("a dog runs")], [Words("a cat sleeps")]];

        var narrow = CiderD.Compute(hypotheses, references, new CiderDOptions { Sigma = 1.0 });

        Assert.That(narrow.ImageScores[0], Is.EqualTo(7.5).Within(1e-12));
        Assert.That(narrow.ImageScores[1], Is.EqualTo(2.5 * Math.Sqrt(2) * Math.Exp(-0.5)).Within(1e-12));
    }

    [Test]
    public void AHypothesisEqualToItsReferenceScoresTheCorpusMaximum()
    {
        var random = new Random(7);
        string[] Sentence(int min, int max) =>
            Enumerable.Range(0, random.Next(min, max + 1)).Select(_ => $"w{random.Next(8)}").ToArray();
        var references = Enumerable.Range(0, 12).Select(_ => new[] { Sentence(2, 10) }).ToArray();

        var perfect = CiderD.Compute(references.Select(r => r[0]).ToArray(), references);

        // Clipped cosine ≤ 1 per order with equality for identical vectors, and the penalty is 1 at δ = 0, so the
        // maximum is 10/4 per order whose reference vector is not zero.
        var nonZeroOrders = references.Select(r => NonZeroOrders(r[0], references)).ToArray();
        Assert.That(perfect.ImageScores, Is.EqualTo(nonZeroOrders.Select(n => 2.5 * n)).Within(1e-12));

        // Other hypotheses, some close (one word replaced, one repeated, one dropped), score no more. An image's
        // score depends on its own hypothesis and the corpus references only, so all images change at once.
        for (var trial = 0; trial < 60; trial++)
        {
            var hypotheses = references.Select(r => Perturb(r[0], random, trial % 4)).ToArray();
            var score = CiderD.Compute(hypotheses, references);
            for (var image = 0; image < references.Length; image++)
            {
                Assert.That(score.ImageScores[image], Is.LessThanOrEqualTo(perfect.ImageScores[image] + 1e-12),
                    $"trial {trial}, image {image}: '{string.Join(' ', hypotheses[image])}' vs '{string.Join(' ', references[image][0])}'");
            }
        }
    }

    [Test]
    public void HypothesesSharingNoNGramWithTheReferencesScoreZero()
    {
        var score = CiderD.Compute(
            [Words("x y z"), Words("u v"), Words("")],
            [[Words("a dog runs"), Words("the dog")], [Words("a cat")], [Words("birds fly")]]);

        Assert.That(score.ImageScores, Is.All.EqualTo(0.0));
        Assert.That(score.Score, Is.EqualTo(0.0));
    }

    [Test]
    public void ImageOrderDoesNotChangeTheScores()
    {
        var corpus = RandomCorpora.Generate(seed: 11).First(c => c.Case == "mixed" && c.Hypotheses.Length >= 6);
        var permutation = Enumerable.Range(0, corpus.Hypotheses.Length).OrderBy(i => (i * 7919) % 13).ToArray();

        var original = CiderD.Compute(corpus.Hypotheses, corpus.References);
        var permuted = CiderD.Compute(permutation.Select(i => corpus.Hypotheses[i]).ToArray(), permutation.Select(i => corpus.References[i]).ToArray());

        Assert.That(permuted.ImageScores, Is.EqualTo(permutation.Select(i => original.ImageScores[i])));
        Assert.That(permuted.Score, Is.EqualTo(original.Score).Within(1e-12));
        Assert.That(original.Score, Is.GreaterThan(0));
    }

    [Test]
    public void RandomCorporaEqualTheIndependentPythonDefinition()
    {
        PythonReference.Require("json");
        var corpora = RandomCorpora.Generate(seed: 99);
        using var temp = new TempDirectory();
        var input = temp.File("corpora.json");
        RandomCorpora.WriteJson(corpora, input);
        var expected = JsonDocument.Parse(PythonReference.Run("eval_ciderd.py", input)).RootElement.EnumerateArray().ToArray();
        Assert.That(expected, Has.Length.EqualTo(corpora.Count));

        var failures = new List<string>();
        for (var c = 0; c < corpora.Count; c++)
        {
            var score = CiderD.Compute(corpora[c].Hypotheses, corpora[c].References);
            var images = expected[c].GetProperty("images").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (var i = 0; i < images.Length; i++)
            {
                if (!(Math.Abs(score.ImageScores[i] - images[i]) <= 1e-9))
                    failures.Add($"corpus {c} ({corpora[c].Case}) image {i}: {score.ImageScores[i]:R} vs {images[i]:R}");
            }
            if (!(Math.Abs(score.Score - expected[c].GetProperty("score").GetDouble()) <= 1e-9))
                failures.Add($"corpus {c} ({corpora[c].Case}): {score.Score:R} vs {expected[c].GetProperty("score").GetDouble():R}");
        }
        Assert.That(failures, Is.Empty);
        Assert.That(corpora.Count(c => c.Hypotheses.Length > 1 && CiderD.Compute(c.Hypotheses, c.References).Score > 1), Is.GreaterThan(30),
            "the random corpora must include well-matching ones");
    }

    [Test]
    public void AnEmptyCorpusIsRejected() =>
        Assert.That(() => CiderD.Compute(Array.Empty<string[]>(), Array.Empty<string[][]>()),
            Throws.ArgumentException.With.Message.Contains("CIDEr-D needs at least one image"));

    [Test]
    public void AnImageWithoutReferencesIsRejected() =>
        Assert.That(() => CiderD.Compute([Words("a b")], [[]]),
            Throws.ArgumentException.With.Message.Contains("The reference list of image 0 is empty"));

    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(double.PositiveInfinity)]
    public void InvalidSigmaIsRejected(double sigma) =>
        Assert.That(() => new CiderDOptions { Sigma = sigma }, Throws.TypeOf<ArgumentOutOfRangeException>());

    /// <summary>Orders 1..4 at which the reference has an n-gram with a non-zero idf (df below the image count).</summary>
    private static int NonZeroOrders(string[] reference, string[][][] corpusReferences)
    {
        var count = 0;
        for (var order = 1; order <= 4; order++)
        {
            var grams = Enumerable.Range(0, Math.Max(0, reference.Length - order + 1))
                .Select(start => string.Join(' ', reference.Skip(start).Take(order)));
            if (grams.Any(gram => corpusReferences.Count(r => ContainsGram(r[0], gram, order)) < corpusReferences.Length)) count++;
        }
        return count;
    }

    private static bool ContainsGram(string[] sentence, string gram, int order) =>
        Enumerable.Range(0, Math.Max(0, sentence.Length - order + 1)).Any(start => string.Join(' ', sentence.Skip(start).Take(order)) == gram);

    private static string[] Perturb(string[] reference, Random random, int kind)
    {
        var words = reference.ToList();
        var position = random.Next(words.Count);
        switch (kind)
        {
            case 0: words[position] = $"w{random.Next(8)}"; break;
            case 1: words.Insert(position, words[position]); break;
            case 2: words.RemoveAt(position); break;
            default: return Enumerable.Range(0, random.Next(0, 12)).Select(_ => $"w{random.Next(8)}").ToArray();
        }
        return [.. words];
    }
}

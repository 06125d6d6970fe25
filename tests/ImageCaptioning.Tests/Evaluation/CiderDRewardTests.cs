using System.Text.Json;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

[TestFixture]
public sealed class CiderDRewardTests
{
    // Token ids of the words the hand-computed examples use.
    private const int A = 0, Dog = 1, Runs = 2, Cat = 3, Sleeps = 4;

    /// <summary>
    /// The training set of <see cref="CiderDTests.HandComputedTwoImageCorpus"/>: image 0 "a dog runs", image 1
    /// "a cat sleeps". N = 2 training images whatever is scored, so the scores are that test's: "a dog runs" for
    /// image 0 is 7.5 each time it is scored, "a cat" for image 1 is 2.5·√2·exp(-1/72), and an empty caption 0.
    /// (Corpus mode over these four candidates would take N = 4 and count image 0's references twice.)
    /// </summary>
    [Test]
    public void DocumentFrequenciesComeFromTheTrainingImagesNotTheCandidates()
    {
        var reward = new CiderDReward([[[A, Dog, Runs]], [[A, Cat, Sleeps]]]);

        var scores = reward.Score([[A, Dog, Runs], [A, Dog, Runs], [A, Cat], []], [0, 0, 1, 1]);

        Assert.That(scores, Is.EqualTo(new[] { 7.5, 7.5, 2.5 * Math.Sqrt(2) * Math.Exp(-1.0 / 72), 0.0 }).Within(1e-12));
        Assert.That(reward.ImageCount, Is.EqualTo(2));
    }

    [Test]
    public void OneCandidatePerImageScoresAsCiderDOverTheTrainingReferences()
    {
        var checkedCorpora = 0;
        foreach (var corpus in RandomCorpora.Generate(seed: 5))
        {
            var ids = new Ids();
            var reward = new CiderDReward(ids.Of(corpus.References));
            var scores = reward.Score(ids.Of(corpus.Hypotheses), [.. Enumerable.Range(0, corpus.Hypotheses.Length)]);

            var expected = CiderD.Compute(corpus.Hypotheses, corpus.References);
            Assert.That(scores, Is.EqualTo(expected.ImageScores), $"{corpus.Case} corpus {checkedCorpora}");
            Assert.That(scores.Average(), Is.EqualTo(expected.Score).Within(1e-12), $"{corpus.Case} corpus {checkedCorpora}");
            checkedCorpora++;
        }
        Assert.That(checkedCorpora, Is.GreaterThan(200));
    }

    [Test]
    public void ManyCandidatesPerImageEqualTheIndependentPythonDefinition()
    {
        PythonReference.Require("json");
        var random = new Random(23);
        var cases = new List<(int[][][] References, int[][] Candidates, int[] Images)>();
        foreach (var corpus in RandomCorpora.Generate(seed: 31).Where(c => c.Case != "single-sentence").Take(80))
        {
            var references = new Ids().Of(corpus.References);
            var candidates = new List<int[]>();
            var images = new List<int>();
            // Five samples and a greedy caption per image, as a self-critical step scores them, in a shuffled order.
            foreach (var image in Enumerable.Range(0, references.Length).OrderBy(_ => random.Next()))
            {
                for (var sample = 0; sample < 6; sample++)
                {
                    candidates.Add(Candidate(references, image, random));
                    images.Add(image);
                }
            }
            cases.Add((references, [.. candidates], [.. images]));
        }
        using var temp = new TempDirectory();
        var input = temp.File("rewards.json");
        File.WriteAllText(input, JsonSerializer.Serialize(cases.Select(c => new { references = c.References, candidates = c.Candidates, images = c.Images })));
        var expected = JsonDocument.Parse(PythonReference.Run("eval_ciderd.py", "--fixed-df", input)).RootElement.EnumerateArray().ToArray();
        Assert.That(expected, Has.Length.EqualTo(cases.Count));

        var failures = new List<string>();
        var positive = 0;
        for (var c = 0; c < cases.Count; c++)
        {
            var scores = new CiderDReward(cases[c].References).Score(cases[c].Candidates, cases[c].Images);
            var reference = expected[c].GetProperty("scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.That(scores, Has.Length.EqualTo(reference.Length));
            for (var i = 0; i < scores.Length; i++)
            {
                if (!(Math.Abs(scores[i] - reference[i]) <= 1e-9))
                    failures.Add($"case {c} candidate {i} (image {cases[c].Images[i]}): {scores[i]:R} vs {reference[i]:R}");
                if (scores[i] > 1) positive++;
            }
        }
        Assert.That(failures, Is.Empty);
        Assert.That(positive, Is.GreaterThan(200), "the candidates must include well-matching ones");
    }

    [Test]
    public void TheReferencesAreCopied()
    {
        int[] reference = [A, Dog, Runs];
        var reward = new CiderDReward([[reference], [[A, Cat, Sleeps]]]);
        reference[1] = Cat;

        Assert.That(reward.Score([[A, Dog, Runs]], [0]), Is.EqualTo(new[] { 7.5 }).Within(1e-12));
    }

    [Test]
    public void OptionsChangeTheScores()
    {
        var reward = new CiderDReward([[[A, Dog, Runs]], [[A, Cat, Sleeps]]], new CiderDOptions { Sigma = 1.0 });

        Assert.That(reward.Score([[A, Cat]], [1]), Is.EqualTo(new[] { 2.5 * Math.Sqrt(2) * Math.Exp(-0.5) }).Within(1e-12));
        Assert.That(reward.Options.Sigma, Is.EqualTo(1.0));
    }

    [TestCase(2)]
    [TestCase(-1)]
    public void AnImageIndexOutOfRangeIsRejectedNamingTheCandidate(int index)
    {
        var reward = new CiderDReward([[[A, Dog]], [[Cat]]]);

        Assert.That(() => reward.Score([[A], [Dog]], [0, index]),
            Throws.InstanceOf<ArgumentOutOfRangeException>()
                .With.Property("ParamName").EqualTo("imageIndexOfEachCandidate")
                .And.Message.Contains($"Candidate 1 has image index {index}").And.Message.Contains("2 images"));
    }

    [Test]
    public void MismatchedOrNullCandidatesAreRejected()
    {
        var reward = new CiderDReward([[[A, Dog]], [[Cat]]]);

        Assert.That(() => reward.Score([[A], [Dog]], [0]),
            Throws.ArgumentException.With.Message.Contains("2 candidates but 1 image indices"));
        Assert.That(() => reward.Score([[A], null!], [0, 1]),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("candidates").And.Message.Contains("Candidate 1 is null"));
    }

    [Test]
    public void BadReferencesAreRejectedNamingTheImage()
    {
        Assert.That(() => new CiderDReward(Array.Empty<int[][]>()),
            Throws.ArgumentException.With.Message.Contains("needs at least one image"));
        Assert.That(() => new CiderDReward([[[A]], []]),
            Throws.ArgumentException.With.Message.Contains("The reference list of image 1 is empty"));
        Assert.That(() => new CiderDReward([[[A], null!]]),
            Throws.ArgumentException.With.Message.Contains("Reference 1 of image 0 is null"));
    }

    /// <summary>A sample as a model would draw it: a reference copied, one edited, a random caption, or an empty one.</summary>
    private static int[] Candidate(int[][][] references, int image, Random random)
    {
        var own = references[image][random.Next(references[image].Length)];
        var vocabulary = references.SelectMany(r => r).SelectMany(r => r).DefaultIfEmpty(0).Max() + 2;
        switch (random.Next(5))
        {
            case 0: return [.. own];
            case 1:
                var edited = own.ToList();
                if (edited.Count > 0) edited[random.Next(edited.Count)] = random.Next(vocabulary);
                return [.. edited];
            case 2: return [.. own, .. own.Take(random.Next(own.Length + 1))];
            case 3: return [];
            default: return [.. Enumerable.Range(0, random.Next(1, 14)).Select(_ => random.Next(vocabulary))];
        }
    }

    /// <summary>Word tokens to ids, one id per distinct word.</summary>
    private sealed class Ids
    {
        private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);

        public int[] Of(string[] sentence) => [.. sentence.Select(word => ids.TryGetValue(word, out var id) ? id : ids[word] = ids.Count)];

        public int[][] Of(string[][] sentences) => [.. sentences.Select(Of)];

        public int[][][] Of(string[][][] references) => [.. references.Select(Of)];
    }
}

using System.Text.Json;

namespace ImageCaptioning.Tests.Evaluation;

/// <summary>A generated corpus: one hypothesis and a list of references per item, tagged with the case it exercises.</summary>
internal sealed record TestCorpus(string Case, string[][] Hypotheses, string[][][] References);

/// <summary>
/// Seeded random corpora covering the cases BLEU and CIDEr-D implementations get wrong: no match at all, matches only
/// at low orders, hypotheses shorter than 4 tokens or empty, brevity penalty, ties of reference length, repeated
/// words (clipping), varying numbers of references.
/// </summary>
internal static class RandomCorpora
{
    public static List<TestCorpus> Generate(int seed)
    {
        var random = new Random(seed);
        var corpora = new List<TestCorpus>();

        void Add(string name, int count, Func<int> sentences, Func<int, (string[] Hypothesis, string[][] References)> item)
        {
            for (var c = 0; c < count; c++)
            {
                var items = Enumerable.Range(0, sentences()).Select(item).ToArray();
                corpora.Add(new TestCorpus(name, items.Select(i => i.Hypothesis).ToArray(), items.Select(i => i.References).ToArray()));
            }
        }

        string[] Sentence(int minLength, int maxLength, string prefix, int vocabulary) =>
            Enumerable.Range(0, random.Next(minLength, maxLength + 1)).Select(_ => $"{prefix}{random.Next(vocabulary)}").ToArray();

        string[][] References(int minCount, int maxCount, Func<string[]> reference) =>
            Enumerable.Range(0, random.Next(minCount, maxCount + 1)).Select(_ => reference()).ToArray();

        Add("mixed", 40, () => random.Next(1, 11),
            _ => (Sentence(0, 14, "w", 8), References(1, 5, () => Sentence(0, 14, "w", 8))));
        Add("repetitive", 25, () => random.Next(1, 7),
            _ => (Sentence(1, 12, "w", 3), References(1, 4, () => Sentence(1, 12, "w", 3))));
        Add("zero-match", 25, () => random.Next(1, 8),
            _ => (Sentence(0, 10, "h", 10), References(1, 5, () => Sentence(1, 10, "r", 10))));
        Add("low-orders-only", 30, () => random.Next(1, 8),
            _ => (Sentence(3, 10, "w", 40), References(1, 3, () => Sentence(3, 10, "w", 40))));
        Add("short-hypotheses", 30, () => random.Next(1, 8),
            _ => (Sentence(0, 3, "w", 6), References(1, 5, () => Sentence(4, 12, "w", 6))));
        Add("empty-hypotheses", 15, () => random.Next(1, 6),
            _ => (Array.Empty<string>(), References(1, 4, () => Sentence(0, 8, "w", 6))));
        Add("long-hypotheses", 20, () => random.Next(1, 8),
            _ => (Sentence(10, 20, "w", 8), References(1, 4, () => Sentence(2, 8, "w", 8))));
        Add("length-ties", 20, () => random.Next(1, 8), _ =>
        {
            var hypothesis = Sentence(4, 10, "w", 6);
            var length = hypothesis.Length;
            var references = new List<string[]> { Sentence(length + 1, length + 1, "w", 6), Sentence(length - 1, length - 1, "w", 6) };
            references.AddRange(References(0, 2, () => Sentence(length + 2, length + 6, "w", 6)));
            return (hypothesis, references.OrderBy(_ => random.Next()).ToArray());
        });
        Add("single-sentence", 25, () => 1,
            _ => (Sentence(0, 10, "w", 6), References(1, 4, () => Sentence(0, 10, "w", 6))));
        Add("copied-reference", 15, () => random.Next(1, 6), _ =>
        {
            var references = References(1, 5, () => Sentence(1, 12, "w", 10));
            return ([.. references[random.Next(references.Length)]], references);
        });
        return corpora;
    }

    /// <summary>The input of the reference scripts: [{"hypotheses": [...], "references": [...]}].</summary>
    public static void WriteJson(IEnumerable<TestCorpus> corpora, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(corpora.Select(c => new { hypotheses = c.Hypotheses, references = c.References })));
}

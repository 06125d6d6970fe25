namespace ImageCaptioning.Evaluation;

/// <summary>
/// CIDEr-D (Vedantam et al., 2015) as coco-caption's <c>ciderD_scorer.py</c> computes it with document frequencies
/// from the evaluated corpus: tf-idf n-gram vectors whose document frequencies count the images whose references
/// contain the n-gram, idf = ln(images) - ln(max(1, df)), the hypothesis weights clipped by the reference weights,
/// a Gaussian length penalty with σ = 6, averaged over the references and the orders 1..4, times 10.
/// </summary>
/// <remarks>
/// As in coco-caption, the "length" the penalty compares is the number of bigrams of a caption (one less than its
/// word count for captions of two words or more, 0 otherwise), and n-grams are compared as exact token strings:
/// tokenise and lower-case before scoring (<see cref="EvaluationTokenizer"/>). <see cref="CiderDReward"/> scores with
/// the same code against fixed training references, for self-critical training.
/// </remarks>
public static class CiderD
{
    /// <summary>Scores every image and the corpus.</summary>
    /// <param name="hypotheses">One token list per image.</param>
    /// <param name="references">For each image, its (at least one) reference token lists.</param>
    /// <param name="options">The n-gram order and σ; <see cref="CiderDOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The corpus is empty, the counts differ, an image has no references, or a sentence or token is null.</exception>
    public static CiderDScore Compute(
        IReadOnlyList<IReadOnlyList<string>> hypotheses,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references,
        CiderDOptions? options = null)
    {
        var corpus = TokenizedCorpus.Create(hypotheses, references, item => $"image {item}");
        return Compute(corpus, options ?? CiderDOptions.Default);
    }

    internal static CiderDScore Compute(TokenizedCorpus corpus, CiderDOptions options)
    {
        if (corpus.Count == 0) EvaluationThrowHelper.ThrowEmptyCorpus("CIDEr-D", "hypotheses");
        var references = new CiderDReferences(corpus.References, options);
        var scratch = new CiderDReferences.Scratch();
        var imageScores = new double[corpus.Count];
        var total = 0.0;
        for (var image = 0; image < corpus.Count; image++)
        {
            var score = references.Score(corpus.Hypotheses[image], image, scratch);
            imageScores[image] = score;
            total += score;
        }
        return new CiderDScore(total / corpus.Count, imageScores);
    }
}

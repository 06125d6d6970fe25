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
/// tokenise and lower-case before scoring (<see cref="EvaluationTokenizer"/>).
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
        var maxOrder = options.MaxOrder;

        var referenceCounts = new Dictionary<NGram, int>[corpus.Count][];
        for (var image = 0; image < corpus.Count; image++)
        {
            var references = corpus.References[image];
            referenceCounts[image] = new Dictionary<NGram, int>[references.Length];
            for (var r = 0; r < references.Length; r++) referenceCounts[image][r] = NGram.Count(references[r], maxOrder);
        }

        var documentFrequency = DocumentFrequency(referenceCounts);
        var logImageCount = Math.Log(corpus.Count);
        var penaltyDenominator = 2.0 * options.Sigma * options.Sigma;

        var imageScores = new double[corpus.Count];
        var orderSimilarities = new double[maxOrder];
        var total = 0.0;
        for (var image = 0; image < corpus.Count; image++)
        {
            var hypothesis = TfIdfVector.Create(NGram.Count(corpus.Hypotheses[image], maxOrder), maxOrder, documentFrequency, logImageCount);
            Array.Clear(orderSimilarities);
            foreach (var counts in referenceCounts[image])
            {
                var reference = TfIdfVector.Create(counts, maxOrder, documentFrequency, logImageCount);
                AddSimilarities(hypothesis, reference, penaltyDenominator, orderSimilarities);
            }

            var sum = 0.0;
            foreach (var similarity in orderSimilarities) sum += similarity;
            var score = sum / maxOrder / referenceCounts[image].Length * 10.0;
            imageScores[image] = score;
            total += score;
        }
        return new CiderDScore(total / corpus.Count, imageScores);
    }

    /// <summary>For each n-gram, the number of images with at least one reference containing it.</summary>
    private static Dictionary<NGram, int> DocumentFrequency(Dictionary<NGram, int>[][] referenceCounts)
    {
        var documentFrequency = new Dictionary<NGram, int>();
        var inImage = new HashSet<NGram>();
        foreach (var references in referenceCounts)
        {
            inImage.Clear();
            foreach (var counts in references)
            {
                foreach (var ngram in counts.Keys)
                {
                    if (inImage.Add(ngram))
                        documentFrequency[ngram] = documentFrequency.GetValueOrDefault(ngram) + 1;
                }
            }
        }
        return documentFrequency;
    }

    /// <summary>The clipped cosine similarity of each order, times the length penalty, added to <paramref name="similarities"/>.</summary>
    private static void AddSimilarities(TfIdfVector hypothesis, TfIdfVector reference, double penaltyDenominator, double[] similarities)
    {
        double delta = hypothesis.Length - reference.Length;
        var penalty = Math.Exp(-(delta * delta) / penaltyDenominator);
        Span<double> dot = stackalloc double[similarities.Length];
        foreach (var (ngram, hypothesisWeight) in hypothesis.Weights)
        {
            var referenceWeight = reference.Weights.GetValueOrDefault(ngram);
            // The clipping of CIDEr-D: repeating an n-gram beyond its count in the reference earns nothing.
            dot[ngram.Length - 1] += Math.Min(hypothesisWeight, referenceWeight) * referenceWeight;
        }
        for (var order = 0; order < similarities.Length; order++)
        {
            var value = dot[order];
            if (hypothesis.Norms[order] != 0 && reference.Norms[order] != 0)
                value /= hypothesis.Norms[order] * reference.Norms[order];
            similarities[order] += value * penalty;
        }
    }

    private sealed class TfIdfVector
    {
        private TfIdfVector(Dictionary<NGram, double> weights, double[] norms, int length)
        {
            Weights = weights;
            Norms = norms;
            Length = length;
        }

        public Dictionary<NGram, double> Weights { get; }

        /// <summary>The Euclidean norm of each order's sub-vector.</summary>
        public double[] Norms { get; }

        /// <summary>The bigram count, coco-caption's caption length.</summary>
        public int Length { get; }

        public static TfIdfVector Create(Dictionary<NGram, int> counts, int maxOrder, Dictionary<NGram, int> documentFrequency, double logImageCount)
        {
            var weights = new Dictionary<NGram, double>(counts.Count);
            var norms = new double[maxOrder];
            var length = 0;
            foreach (var (ngram, termFrequency) in counts)
            {
                // An n-gram absent from every reference counts as df 1, so ln(max(1, df)) is finite.
                var inverseDocumentFrequency = logImageCount - Math.Log(Math.Max(1, documentFrequency.GetValueOrDefault(ngram)));
                var weight = termFrequency * inverseDocumentFrequency;
                weights[ngram] = weight;
                norms[ngram.Length - 1] += weight * weight;
                if (ngram.Length == 2) length += termFrequency;
            }
            for (var order = 0; order < maxOrder; order++) norms[order] = Math.Sqrt(norms[order]);
            return new TfIdfVector(weights, norms, length);
        }
    }
}

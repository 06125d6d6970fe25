namespace ImageCaptioning.Evaluation;

/// <summary>Scores generated captions against their references: corpus BLEU-1..4, CIDEr-D and per-image scores.</summary>
public static class CaptionMetrics
{
    /// <summary>
    /// Tokenises every caption (<see cref="CaptionEvaluationOptions.Tokenizer"/>) and computes the corpus BLEU (as
    /// NLTK's <c>corpus_bleu</c>), the corpus CIDEr-D (as coco-caption), and each image's CIDEr-D and smoothed
    /// sentence BLEU.
    /// </summary>
    /// <param name="items">One entry per image: its identifier, the generated caption and its reference captions.</param>
    /// <param name="options">The tokenisation and metric options; <see cref="CaptionEvaluationOptions.Default"/> when null.</param>
    /// <returns>The scores, with the per-image entries in input order.</returns>
    /// <exception cref="ArgumentException">
    /// There are no items, an image id is empty or repeated, or an image has a null caption or no references; the
    /// message names the image.
    /// </exception>
    public static CaptionEvaluationResult Evaluate(
        IEnumerable<(string ImageId, string Hypothesis, IReadOnlyList<string> References)> items,
        CaptionEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        options ??= CaptionEvaluationOptions.Default;
        var entries = items.ToArray();
        if (entries.Length == 0) EvaluationThrowHelper.ThrowEmptyCorpus("Caption evaluation", nameof(items));
        Validate(entries);

        var tokenizer = new EvaluationTokenizer(options.Tokenizer);
        var hypotheses = new string[entries.Length][];
        var references = new string[entries.Length][][];
        for (var i = 0; i < entries.Length; i++)
        {
            hypotheses[i] = tokenizer.Tokenize(entries[i].Hypothesis);
            references[i] = entries[i].References.Select(tokenizer.Tokenize).ToArray();
        }
        var corpus = TokenizedCorpus.Create(hypotheses, references, i => $"image '{entries[i].ImageId}'");

        var maxOrder = options.Bleu.MaxOrder;
        var sentenceBleuOptions = options.Bleu with { Smoothing = BleuSmoothing.Method1 };
        var corpusStatistics = new Bleu.BleuStatistics(maxOrder);
        var sentenceBleu = new double[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var statistics = Bleu.BleuStatistics.Of(corpus.Hypotheses[i], corpus.References[i], maxOrder);
            sentenceBleu[i] = statistics.ToScore(sentenceBleuOptions).Score(maxOrder);
            corpusStatistics.Add(statistics);
        }
        var bleu = corpusStatistics.ToScore(options.Bleu);
        var ciderD = CiderD.Compute(corpus, options.CiderD);

        var images = new ImageEvaluation[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var (imageId, hypothesis, imageReferences) = entries[i];
            images[i] = new ImageEvaluation(imageId, hypothesis, imageReferences, ciderD.ImageScores[i], sentenceBleu[i]);
        }
        return new CaptionEvaluationResult(bleu, ciderD, images);
    }

    private static void Validate((string ImageId, string Hypothesis, IReadOnlyList<string> References)[] entries)
    {
        var firstIndex = new Dictionary<string, int>(entries.Length, StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            var (imageId, hypothesis, references) = entries[i];
            if (string.IsNullOrWhiteSpace(imageId))
                throw new ArgumentException($"Item {i} has no image id.", "items");
            if (!firstIndex.TryAdd(imageId, i))
                EvaluationThrowHelper.ThrowDuplicateImage(imageId, firstIndex[imageId], i, "items");
            if (hypothesis is null)
                EvaluationThrowHelper.ThrowNullItem($"The hypothesis of image '{imageId}'", "items");
            if (references is null)
                EvaluationThrowHelper.ThrowNullItem($"The reference list of image '{imageId}'", "items");
            if (references.Count == 0)
                EvaluationThrowHelper.ThrowNoReferences($"image '{imageId}'", "items");
            for (var r = 0; r < references.Count; r++)
            {
                if (references[r] is null)
                    EvaluationThrowHelper.ThrowNullItem($"Reference {r} of image '{imageId}'", "items");
            }
        }
    }
}

namespace ImageCaptioning.Evaluation;

/// <summary>The evaluation of one image: its captions as given and its scores.</summary>
/// <param name="ImageId">The image identifier.</param>
/// <param name="Hypothesis">The generated caption, as given.</param>
/// <param name="References">The reference captions, as given.</param>
/// <param name="CiderD">The image's CIDEr-D within the evaluated corpus (its document frequencies are the corpus's).</param>
/// <param name="SentenceBleu">
/// The sentence BLEU of the image at the corpus BLEU's maximum order (BLEU-4 by default), smoothed with
/// <see cref="BleuSmoothing.Method1"/>.
/// </param>
public sealed record ImageEvaluation(
    string ImageId,
    string Hypothesis,
    IReadOnlyList<string> References,
    double CiderD,
    double SentenceBleu)
{
    /// <summary>The reference captions, as given (a read-only copy).</summary>
    public IReadOnlyList<string> References { get; init; } = Array.AsReadOnly(References.ToArray());
}

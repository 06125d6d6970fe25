using System.Collections.ObjectModel;
using System.Globalization;

namespace ImageCaptioning.Evaluation;

/// <summary>The scores of a captioning run: corpus BLEU-1..N and CIDEr-D, and every image's entry. Immutable.</summary>
public sealed partial class CaptionEvaluationResult
{
    internal CaptionEvaluationResult(BleuScore bleu, CiderDScore ciderD, ImageEvaluation[] images)
    {
        Bleu = bleu;
        CiderD = ciderD.Score;
        Images = new ReadOnlyCollection<ImageEvaluation>(images);
    }

    /// <summary>The corpus BLEU, with its precisions, brevity penalty and lengths.</summary>
    public BleuScore Bleu { get; }

    /// <summary>The corpus CIDEr-D: the mean of the images' <see cref="ImageEvaluation.CiderD"/>.</summary>
    public double CiderD { get; }

    /// <summary>The per-image entries, in input order.</summary>
    public IReadOnlyList<ImageEvaluation> Images { get; }

    /// <inheritdoc />
    public override string ToString() =>
        Bleu + string.Create(CultureInfo.InvariantCulture, $"; CIDEr-D {CiderD:F4} over {Images.Count} images");
}

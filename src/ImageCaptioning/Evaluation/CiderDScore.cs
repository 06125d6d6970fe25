using System.Collections.ObjectModel;
using System.Globalization;

namespace ImageCaptioning.Evaluation;

/// <summary>A CIDEr-D result: the corpus score and the score of every image. Immutable.</summary>
public sealed class CiderDScore
{
    internal CiderDScore(double score, double[] imageScores)
    {
        Score = score;
        ImageScores = new ReadOnlyCollection<double>(imageScores);
    }

    /// <summary>The corpus CIDEr-D: the mean of <see cref="ImageScores"/>.</summary>
    public double Score { get; }

    /// <summary>The CIDEr-D of each image, in input order.</summary>
    public IReadOnlyList<double> ImageScores { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"CIDEr-D {Score:F4} over {ImageScores.Count} images");
}

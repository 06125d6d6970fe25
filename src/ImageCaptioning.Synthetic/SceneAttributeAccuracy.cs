using System.Globalization;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// How well captions state one attribute (colour, shape, size or position) of the objects they describe, after
/// each described object has been matched to at most one true object (see <see cref="SceneAccuracy"/>).
/// </summary>
/// <param name="Stated">Described objects whose caption states the attribute.</param>
/// <param name="Present">True objects (every one has the attribute).</param>
/// <param name="Correct">Described objects that state it and whose matched true object has that value.</param>
public sealed record SceneAttributeAccuracy(int Stated, int Present, int Correct)
{
    /// <summary>The share of stated values that are right; 0 when none is stated.</summary>
    public double Precision => Ratio(Correct, Stated);

    /// <summary>The share of true objects whose value the captions state rightly; 0 when there are none.</summary>
    public double Recall => Ratio(Correct, Present);

    /// <summary>The counts of both, added (to pool images).</summary>
    public static SceneAttributeAccuracy operator +(SceneAttributeAccuracy left, SceneAttributeAccuracy right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Stated + right.Stated, left.Present + right.Present, left.Correct + right.Correct);
    }

    /// <summary>The counts of both, added (to pool images).</summary>
    public static SceneAttributeAccuracy Add(SceneAttributeAccuracy left, SceneAttributeAccuracy right) => left + right;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"P {Precision:F3} R {Recall:F3}");

    internal static double Ratio(int part, int whole) => whole == 0 ? 0 : (double)part / whole;
}

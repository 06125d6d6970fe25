using System.Globalization;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// The scene accuracy of generated captions over a set of synthetic images (see <see cref="SceneAccuracy"/>):
/// counts pooled over all images, so every object weighs the same. Immutable.
/// </summary>
public sealed record SceneAccuracyResult
{
    internal SceneAccuracyResult(IReadOnlyList<SceneImageAccuracy> images)
    {
        Images = Array.AsReadOnly(images.ToArray());
        Color = Pool(i => i.Color);
        Shape = Pool(i => i.Shape);
        Size = Pool(i => i.Size);
        Position = Pool(i => i.Position);
        TrueObjects = images.Sum(i => i.TrueObjects);
        GeneratedObjects = images.Sum(i => i.GeneratedObjects);
        RightObjects = images.Sum(i => i.RightObjects);
        CountsRight = images.Count(i => i.CountRight);
        ScenesRight = images.Count(i => i.SceneRight);
        UnparsedWords = images.Sum(i => i.UnparsedWords);

        SceneAttributeAccuracy Pool(Func<SceneImageAccuracy, SceneAttributeAccuracy> attribute) =>
            images.Select(attribute).Aggregate(new SceneAttributeAccuracy(0, 0, 0), (sum, next) => sum + next);
    }

    /// <summary>Every image's entry, in input order.</summary>
    public IReadOnlyList<SceneImageAccuracy> Images { get; }

    /// <summary>Colour precision and recall.</summary>
    public SceneAttributeAccuracy Color { get; }

    /// <summary>Shape precision and recall.</summary>
    public SceneAttributeAccuracy Shape { get; }

    /// <summary>Size precision and recall.</summary>
    public SceneAttributeAccuracy Size { get; }

    /// <summary>Position precision and recall.</summary>
    public SceneAttributeAccuracy Position { get; }

    /// <summary>The shapes drawn in all images.</summary>
    public int TrueObjects { get; }

    /// <summary>The objects all captions describe.</summary>
    public int GeneratedObjects { get; }

    /// <summary>Described objects right in colour, shape, size and position.</summary>
    public int RightObjects { get; }

    /// <summary>The share of described objects that are right; 0 when none is described.</summary>
    public double ObjectPrecision => SceneAttributeAccuracy.Ratio(RightObjects, GeneratedObjects);

    /// <summary>The share of true objects described rightly.</summary>
    public double ObjectRecall => SceneAttributeAccuracy.Ratio(RightObjects, TrueObjects);

    /// <summary>Images whose caption gets the object count right (see <see cref="SceneImageAccuracy.CountRight"/>).</summary>
    public int CountsRight { get; }

    /// <summary>The share of images whose caption gets the object count right.</summary>
    public double CountAccuracy => SceneAttributeAccuracy.Ratio(CountsRight, Images.Count);

    /// <summary>Images whose caption gets the whole scene right (see <see cref="SceneImageAccuracy.SceneRight"/>).</summary>
    public int ScenesRight { get; }

    /// <summary>The share of images whose caption gets the whole scene right.</summary>
    public double WholeSceneAccuracy => SceneAttributeAccuracy.Ratio(ScenesRight, Images.Count);

    /// <summary>Words, over all captions, that fit no phrase of the grammar.</summary>
    public int UnparsedWords { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"whole scenes {WholeSceneAccuracy:F3} ({ScenesRight}/{Images.Count}); objects P {ObjectPrecision:F3} R {ObjectRecall:F3}; " +
        $"colour {Color}; shape {Shape}; size {Size}; position {Position}; count {CountAccuracy:F3}; unparsed words {UnparsedWords}");
}

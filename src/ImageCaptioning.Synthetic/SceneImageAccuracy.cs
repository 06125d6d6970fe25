namespace ImageCaptioning.Synthetic;

/// <summary>How well one generated caption describes its image's scene (see <see cref="SceneAccuracy"/>).</summary>
/// <param name="ImageId">The image.</param>
/// <param name="GeneratedCaption">The caption, as given.</param>
/// <param name="TrueObjects">The shapes the generator drew.</param>
/// <param name="GeneratedObjects">The objects the caption describes.</param>
/// <param name="RightObjects">Described objects whose colour, shape, size and position all match their true object.</param>
/// <param name="Color">The colours stated.</param>
/// <param name="Shape">The shapes stated.</param>
/// <param name="Size">The sizes stated.</param>
/// <param name="Position">The positions stated, by a cell or by a relation to another object.</param>
/// <param name="CountRight">
/// Whether the caption describes as many objects as the image holds and, where it states a number ("two shapes"),
/// states that one.
/// </param>
/// <param name="UnparsedWords">Words of the caption that fit no phrase of the grammar.</param>
public sealed record SceneImageAccuracy(
    string ImageId,
    string GeneratedCaption,
    int TrueObjects,
    int GeneratedObjects,
    int RightObjects,
    SceneAttributeAccuracy Color,
    SceneAttributeAccuracy Shape,
    SceneAttributeAccuracy Size,
    SceneAttributeAccuracy Position,
    bool CountRight,
    int UnparsedWords)
{
    /// <summary>Whether the caption gets the whole scene right: every object right, none extra, the count right.</summary>
    public bool SceneRight => CountRight && RightObjects == TrueObjects && GeneratedObjects == TrueObjects;
}

namespace ImageCaptioning.Synthetic;

/// <summary>
/// Scores generated captions of synthetic images by the scene they describe rather than by their words: each
/// caption is parsed with the synthetic grammar, inverted, and compared with the shapes the generator drew.
/// </summary>
/// <remarks>
/// <para>
/// Parsing reads every phrasing the grammar produces (and its alternative position phrases, number words and
/// relations), and as much of an ungrammatical caption as fits: an object is a run of size, colour and shape words
/// (with a colour or a shape), placed by the position phrase next to it or by a relation ("to the right of",
/// "below") to another object; words that fit nowhere count in <see cref="SceneImageAccuracy.UnparsedWords"/>.
/// </para>
/// <para>
/// Described objects are matched to true objects one to one: an object whose cell is named takes the true object in
/// that cell; the rest, most shared attributes first, take a free true object they share an attribute with. An
/// attribute a caption states is right when the matched true object has it; a position stated by a relation is right
/// when the matched objects' cells bear it out (the grammar relates shapes of one row or one column only). An object
/// is right when its colour, shape, size and position are all stated and right; a scene is right when every true
/// object is described rightly, nothing else is described and any number stated is the true count. Precision divides
/// by what the captions state, recall by what the images hold, and counts are pooled over images.
/// </para>
/// <para>
/// The truth is the generator's own record of each scene (<see cref="SyntheticScene.Objects"/>), never the reference
/// captions, so the parser is checked against the generator: the grammar's own captions score 1 throughout.
/// </para>
/// </remarks>
public static class SceneAccuracy
{
    /// <summary>Scores <paramref name="captions"/> against the scenes of <paramref name="dataset"/>.</summary>
    /// <param name="captions">One generated caption per image, by the image's id (its file name).</param>
    /// <param name="dataset">The generated dataset the images belong to; its colours are the colour words.</param>
    /// <exception cref="ArgumentException">There are no captions, or an id is empty or repeated, or a caption is null.</exception>
    /// <exception cref="KeyNotFoundException">An id is not an image of the dataset.</exception>
    public static SceneAccuracyResult Evaluate(IEnumerable<(string ImageId, string GeneratedCaption)> captions, SyntheticDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Evaluate(captions, id => dataset[id].Scene, dataset.Options.Colors);
    }

    /// <summary>
    /// Scores <paramref name="captions"/> against the scenes <paramref name="generator"/> describes, without any
    /// files (see <see cref="SyntheticCaptionedImages.Describe"/>).
    /// </summary>
    /// <param name="captions">One generated caption per image, by the image's id (its file name).</param>
    /// <param name="generator">The generator of the images; its colours are the colour words.</param>
    /// <exception cref="ArgumentException">There are no captions, or an id is empty or repeated, or a caption is null.</exception>
    /// <exception cref="KeyNotFoundException">An id is not one of the generator's images.</exception>
    public static SceneAccuracyResult Evaluate(IEnumerable<(string ImageId, string GeneratedCaption)> captions, SyntheticCaptionedImages generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var scenes = generator.Describe().ToDictionary(image => image.ImageId, image => image.Scene, StringComparer.Ordinal);
        return Evaluate(
            captions,
            id => scenes.TryGetValue(id, out var scene) ? scene : throw new KeyNotFoundException($"image '{id}' is not one of the {scenes.Count} synthetic images"),
            generator.Options.Colors);
    }

    private static SceneAccuracyResult Evaluate(
        IEnumerable<(string ImageId, string GeneratedCaption)> captions, Func<string, SyntheticScene> sceneOf, IReadOnlyList<SyntheticColor> colors)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var parser = new SceneCaptionParser(colors);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var images = new List<SceneImageAccuracy>();
        foreach (var (imageId, caption) in captions)
        {
            if (string.IsNullOrEmpty(imageId)) throw new ArgumentException($"entry {images.Count} has no image id", nameof(captions));
            if (caption is null) throw new ArgumentException($"the caption of image '{imageId}' is null", nameof(captions));
            if (!seen.Add(imageId)) throw new ArgumentException($"image '{imageId}' has more than one caption", nameof(captions));
            images.Add(SceneScorer.Score(imageId, caption, parser.Parse(caption), sceneOf(imageId)));
        }
        if (images.Count == 0) throw new ArgumentException("there are no captions to score", nameof(captions));
        return new SceneAccuracyResult(images);
    }
}

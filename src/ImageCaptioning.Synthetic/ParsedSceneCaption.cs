namespace ImageCaptioning.Synthetic;

/// <summary>What <see cref="SceneCaptionParser"/> read from a caption.</summary>
/// <param name="Objects">The objects described, in caption order.</param>
/// <param name="Relations">Relations stated between them.</param>
/// <param name="StatedCount">The number of shapes the caption says the image has ("two shapes", or a lone "one ..."), if it says.</param>
/// <param name="UnparsedWords">Words that took part in no phrase the parser recognised, in caption order.</param>
internal sealed record ParsedSceneCaption(
    IReadOnlyList<ParsedSceneObject> Objects,
    IReadOnlyList<SceneRelation> Relations,
    int? StatedCount,
    IReadOnlyList<string> UnparsedWords);

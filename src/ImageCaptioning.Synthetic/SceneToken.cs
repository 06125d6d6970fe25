namespace ImageCaptioning.Synthetic;

/// <summary>A word or phrase of a caption as <see cref="SceneCaptionParser"/> reads it.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Value">The enum value or number it stands for (see <see cref="SceneTokenKind"/>).</param>
/// <param name="Text">The caption's words it covers, separated by spaces.</param>
internal readonly record struct SceneToken(SceneTokenKind Kind, int Value, string Text)
{
    /// <summary>Whether it is a size, colour or shape word, the words an object mention is made of.</summary>
    public bool IsAttribute => Kind is SceneTokenKind.Size or SceneTokenKind.Color or SceneTokenKind.Shape;
}

namespace ImageCaptioning.Synthetic;

/// <summary>One object a caption describes; an attribute the caption does not state is null.</summary>
/// <param name="Shape">The shape word's shape.</param>
/// <param name="Color">The colour word, one of the dataset's colour names.</param>
/// <param name="Size">The size word's size class.</param>
/// <param name="Position">The cell a position phrase names; null also when only a relation places the object.</param>
internal sealed record ParsedSceneObject(SyntheticShape? Shape, string? Color, SyntheticSize? Size, SyntheticPosition? Position);

namespace ImageCaptioning.Synthetic;

/// <summary>One generated image: its id (the file name under <c>Images/</c>), its scene and its captions.</summary>
/// <param name="ImageId">The file name, such as <c>synthetic_00042.jpg</c>, also the id in <c>captions.txt</c>.</param>
/// <param name="Scene">What the image shows.</param>
/// <param name="Captions">Its captions, all stating facts of <paramref name="Scene"/>; the first is the canonical phrasing.</param>
public sealed record SyntheticImage(string ImageId, SyntheticScene Scene, IReadOnlyList<string> Captions);

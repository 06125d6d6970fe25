namespace CaptionImages;

/// <summary>The options that apply to a Hugging Face checkpoint folder only.</summary>
/// <param name="Prompt">Text that BLIP's captions continue (--prompt), or null.</param>
/// <param name="Report">The HTML page to write (--report), or null for none.</param>
internal sealed record CheckpointSettings(string? Prompt, string? Report);

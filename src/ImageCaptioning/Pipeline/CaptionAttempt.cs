namespace ImageCaptioning.Pipeline;

/// <summary>The caption of one image file, or why the file could not be captioned.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Caption">The caption; null when <paramref name="Error"/> is set.</param>
/// <param name="Error">Why the file could not be read or decoded (its message names the file); null on success.</param>
public sealed record CaptionAttempt(string Path, string? Caption, Exception? Error)
{
    /// <summary>Whether the image was captioned.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The caption's log-probability, a confidence score, where the captioner reports one (a pretrained captioner does); NaN otherwise.</summary>
    public double LogProbability { get; init; } = double.NaN;
}

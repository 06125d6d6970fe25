namespace ImageCaptioning.Text;

/// <summary>
/// How <see cref="CaptionCleaner"/> normalises captions. The defaults are the Flickr8k recipe's rules: lower-case,
/// keep only a–z, drop one-letter words, wrap in <c>startseq</c> … <c>endseq</c>.
/// </summary>
public sealed record CaptionCleaningOptions
{
    /// <summary>The recipe's rules.</summary>
    public static CaptionCleaningOptions Default { get; } = new();

    /// <summary>Lower-case the caption (invariant culture).</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Replace every character other than an ASCII letter with a space.</summary>
    public bool LettersOnly { get; init; } = true;

    /// <summary>Words shorter than this are dropped; 1 keeps every word.</summary>
    public int MinWordLength { get; init => field = OptionGuard.AtLeast(value, 1); } = 2;

    /// <summary>Word put before each caption, or null for none.</summary>
    public string? StartMark { get; init; } = "startseq";

    /// <summary>Word put after each caption, or null for none.</summary>
    public string? EndMark { get; init; } = "endseq";
}

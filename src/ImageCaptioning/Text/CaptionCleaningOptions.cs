namespace ImageCaptioning.Text;

/// <summary>
/// How <see cref="CaptionCleaner"/> normalises captions. The defaults are the Flickr8k recipe's rules: lower-case,
/// keep only a–z, drop one-letter words, wrap in <c>startseq</c> … <c>endseq</c>.
/// </summary>
public sealed record CaptionCleaningOptions
{
    private readonly int minWordLength = 2;

    /// <summary>The recipe's rules.</summary>
    public static CaptionCleaningOptions Default { get; } = new();

    /// <summary>Lower-case the caption (invariant culture).</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Replace every character other than an ASCII letter with a space.</summary>
    public bool LettersOnly { get; init; } = true;

    /// <summary>Words shorter than this are dropped; 1 keeps every word.</summary>
    public int MinWordLength
    {
        get => minWordLength;
        init => minWordLength = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinWordLength), value, "must be at least 1");
    }

    /// <summary>Word put before each caption, or null for none.</summary>
    public string? StartMark { get; init; } = "startseq";

    /// <summary>Word put after each caption, or null for none.</summary>
    public string? EndMark { get; init; } = "endseq";
}

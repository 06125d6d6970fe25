namespace ImageCaptioning.Text;

/// <summary>What a <see cref="CaptionReader"/> method does with bytes that are not valid in the file's encoding.</summary>
public enum InvalidTextHandling
{
    /// <summary>Throw a <see cref="CaptionFormatException"/> naming the file, line and byte offset (the default).</summary>
    Throw,

    /// <summary>
    /// Replace each invalid sequence with U+FFFD and log one warning with their count and the first one's place.
    /// Caption cleaning then drops the U+FFFD with the other non-letters, so "caf\xE9" becomes "caf".
    /// </summary>
    Replace,
}

/// <summary>How the <see cref="CaptionReader"/> methods read caption files.</summary>
public sealed record CaptionReaderOptions
{
    /// <summary>The defaults: invalid bytes are an error.</summary>
    public static CaptionReaderOptions Default { get; } = new();

    /// <summary>
    /// Bytes that are not valid UTF-8 (or UTF-16/UTF-32, for a file whose byte-order mark says so). Default:
    /// <see cref="InvalidTextHandling.Throw"/>, since a silently replaced letter changes the caption.
    /// </summary>
    public InvalidTextHandling InvalidText
    {
        get;
        init => field = OptionGuard.Defined(value);
    } = InvalidTextHandling.Throw;
}

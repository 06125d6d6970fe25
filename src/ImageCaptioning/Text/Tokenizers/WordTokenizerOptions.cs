namespace ImageCaptioning.Text;

/// <summary>How <see cref="WordTokenizer.Train"/> builds a word vocabulary.</summary>
public sealed record WordTokenizerOptions
{
    /// <summary>Words seen fewer times than this map to the unknown id.</summary>
    public int MinCount { get; init => field = OptionGuard.AtLeast(value, 1); } = 1;

    /// <summary>Largest vocabulary, the four special tokens included; null for no limit.</summary>
    public int? MaxVocabularySize
    {
        get;
        init => field = OptionGuard.Require(value, value is null or >= WordTokenizer.SpecialTokenCount,
            $"must be at least {WordTokenizer.SpecialTokenCount} (the special tokens)");
    }

    /// <summary>Padding token (id 0).</summary>
    public string PadToken { get; init; } = "<pad>";

    /// <summary>Unknown-word token (id 1).</summary>
    public string UnknownToken { get; init; } = "<unk>";

    /// <summary>Start mark (id 2); the default matches <see cref="CaptionCleaningOptions.StartMark"/>.</summary>
    public string StartToken { get; init; } = "startseq";

    /// <summary>End mark (id 3); the default matches <see cref="CaptionCleaningOptions.EndMark"/>.</summary>
    public string EndToken { get; init; } = "endseq";
}

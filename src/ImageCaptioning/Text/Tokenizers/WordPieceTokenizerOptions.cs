namespace ImageCaptioning.Text;

/// <summary>
/// How <see cref="WordPieceTokenizer"/> tokenizes; the defaults are HuggingFace's <c>BertTokenizer</c> for
/// <c>bert-base-uncased</c> plus the recipe's added <c>&lt;SOS&gt;</c>/<c>&lt;EOS&gt;</c> special tokens.
/// </summary>
public sealed record WordPieceTokenizerOptions
{
    /// <summary>Lower-case words before matching (<c>do_lower_case</c>).</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Remove accents (NFD, then drop non-spacing marks); null follows <see cref="LowerCase"/> as BERT does.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Make every CJK ideograph a word of its own (<c>tokenize_chinese_chars</c>).</summary>
    public bool TokenizeCjkCharacters { get; init; } = true;

    /// <summary>The unknown token; it must be in the vocabulary.</summary>
    public string UnknownToken { get; init; } = "[UNK]";

    /// <summary>The padding token; it must be in the vocabulary.</summary>
    public string PadToken { get; init; } = "[PAD]";

    /// <summary>The start mark, added to the vocabulary when missing.</summary>
    public string StartToken { get; init; } = "<SOS>";

    /// <summary>The end mark, added to the vocabulary when missing.</summary>
    public string EndToken { get; init; } = "<EOS>";

    /// <summary>Other vocabulary entries that are never split (those missing from the vocabulary are ignored).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["[CLS]", "[SEP]", "[MASK]"];

    /// <summary>Prefix of word pieces that continue a word.</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>Words longer than this many characters (code points) become the unknown token.</summary>
    public int MaxInputCharsPerWord { get; init => field = OptionGuard.AtLeast(value, 1); } = 100;

    /// <summary>Remove the space before punctuation and contractions when decoding, as HuggingFace does by default.</summary>
    public bool CleanUpTokenizationSpaces { get; init; } = true;
}

namespace ImageCaptioning.Text;

/// <summary>Hugging Face's <c>clean_up_tokenization</c>, which its decoders apply when <c>clean_up_tokenization_spaces</c> is set.</summary>
internal static class TokenizationSpaces
{
    /// <summary>Removes the space before punctuation and English contractions, in Hugging Face's order.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);
}

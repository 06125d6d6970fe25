using System.Globalization;
using System.Text;

namespace ImageCaptioning.Text;

/// <summary>
/// BERT's basic tokenization (HuggingFace <c>BasicTokenizer</c>): removes control characters, isolates CJK
/// ideographs, NFC-normalises, splits on white space, lower-cases and strips accents, and splits punctuation.
/// </summary>
internal sealed class BertPreTokenizer(bool lowerCase, bool stripAccents, bool tokenizeCjk)
{
    public void Tokenize(string text, List<string> words)
    {
        var cleaned = new StringBuilder(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is 0 or 0xFFFD || IsControl(rune)) continue;
            if (tokenizeCjk && IsCjk(rune.Value)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else if (IsWhitespace(rune)) cleaned.Append(' ');
            else cleaned.Append(rune.ToString());
        }
        var normalized = cleaned.ToString().Normalize(NormalizationForm.FormC);
        foreach (var word in normalized.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries))
        {
            var token = lowerCase ? word.ToLowerInvariant() : word;
            if (stripAccents) token = StripAccents(token);
            SplitOnPunctuation(token, words);
        }
    }

    private static string StripAccents(string word)
    {
        var decomposed = word.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) builder.Append(rune.ToString());
        return builder.ToString();
    }

    private static void SplitOnPunctuation(string word, List<string> words)
    {
        var start = 0;
        var position = 0;
        foreach (var rune in word.EnumerateRunes())
        {
            if (IsPunctuation(rune))
            {
                if (position > start) words.Add(word[start..position]);
                words.Add(rune.ToString());
                start = position + rune.Utf16SequenceLength;
            }
            position += rune.Utf16SequenceLength;
        }
        if (position > start) words.Add(word[start..position]);
    }

    // BERT treats all non-letter/number ASCII as punctuation ("$", "^", "`"), plus Unicode's P* categories.
    private static bool IsPunctuation(Rune rune) =>
        rune.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    // Tab and line breaks count as white space, not control; every other "C*" category (Cc, Cf, Cs, Co, Cn) is dropped.
    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    // The CJK Unified Ideographs blocks BERT isolates; Hangul, Hiragana and Katakana are not among them.
    private static bool IsCjk(int codePoint) =>
        codePoint is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

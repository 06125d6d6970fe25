using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// What <see cref="WordTokenizer"/> and <see cref="WordPieceTokenizer"/> share as <see cref="Tokenizer"/>s: each
/// produces its tokens with offsets and decodes ids to a string; the token
/// budget (<see cref="EncodeSettings.MaxTokenCount"/>), counting, index-by-count and span decoding follow from those.
/// Normalization and pre-tokenization are part of each tokenizer's rules and always applied (there is no separate
/// <see cref="Tokenizer.Normalizer"/> or <see cref="Tokenizer.PreTokenizer"/> to skip).
/// </summary>
public abstract class CaptionTokenizerBase : Tokenizer
{
    /// <summary>Only the two tokenizers of this library derive from it.</summary>
    private protected CaptionTokenizerBase()
    {
    }

    /// <summary>
    /// The tokens of <paramref name="text"/>, with offsets into <c>NormalizedText</c> (or into
    /// <paramref name="text"/> when that is null).
    /// </summary>
    private protected abstract (List<EncodedToken> Tokens, string? NormalizedText) Split(string text);

    /// <summary>The text of <paramref name="ids"/>, special tokens included or not.</summary>
    public abstract string Decode(IEnumerable<int> ids, bool skipSpecialTokens);

    /// <summary>The text of <paramref name="ids"/>, special tokens included (as Microsoft.ML.Tokenizers and HuggingFace decode by default).</summary>
    public override string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: false);

    /// <inheritdoc />
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var input = text ?? textSpan.ToString();
        var (tokens, normalized) = Split(input);
        var kept = Math.Min(tokens.Count, settings.MaxTokenCount);
        var consumed = kept == tokens.Count ? (normalized ?? input).Length : kept == 0 ? 0 : tokens[kept - 1].Offset.End.Value;
        return new EncodeResults<EncodedToken>
        {
            Tokens = kept == tokens.Count ? tokens : tokens.GetRange(0, kept),
            NormalizedText = normalized,
            CharsConsumed = consumed,
        };
    }

    /// <inheritdoc />
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var tokens = EncodeToTokens(text, textSpan, settings);
        return new EncodeResults<int>
        {
            Tokens = [.. tokens.Tokens.Select(token => token.Id)],
            NormalizedText = tokens.NormalizedText,
            CharsConsumed = tokens.CharsConsumed,
        };
    }

    /// <inheritdoc />
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        EncodeToTokens(text, textSpan, settings).Tokens.Count;

    /// <inheritdoc />
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd,
        out string? normalizedText, out int tokenCount)
    {
        var (tokens, normalized) = Split(text ?? textSpan.ToString());
        normalizedText = normalized;
        tokenCount = Math.Min(tokens.Count, settings.MaxTokenCount);
        var length = (normalized ?? text ?? textSpan.ToString()).Length;
        if (tokenCount == 0) return fromEnd ? length : 0;
        if (tokenCount == tokens.Count) return fromEnd ? 0 : length;
        return fromEnd ? tokens[^tokenCount].Offset.Start.Value : tokens[tokenCount - 1].Offset.End.Value;
    }

    /// <inheritdoc />
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var all = ids.ToList();
        // The longest prefix of the ids whose text fits (captions are short, so decoding prefixes is cheap).
        for (var count = all.Count; count >= 0; count--)
        {
            var text = Decode(all.Take(count));
            if (text.Length > destination.Length) continue;
            text.CopyTo(destination);
            idsConsumed = count;
            charsWritten = text.Length;
            return count == all.Count ? OperationStatus.Done : OperationStatus.DestinationTooSmall;
        }
        idsConsumed = charsWritten = 0;
        return OperationStatus.DestinationTooSmall;
    }
}

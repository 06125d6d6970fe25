namespace ImageCaptioning.Text;

/// <summary>
/// Maps caption text to token ids and back, shaped like Microsoft.ML.Tokenizers' <c>Tokenizer</c>
/// (<c>EncodeToIds</c>, <c>Decode</c>) plus the special ids a captioning model needs.
/// Implementations are immutable and safe to use from several threads.
/// </summary>
public interface ICaptionTokenizer
{
    /// <summary>Number of ids: every id is in [0, VocabularySize).</summary>
    int VocabularySize { get; }

    /// <summary>The padding id; batches fill unused positions with it and the loss ignores it.</summary>
    int PadId { get; }

    /// <summary>The id of out-of-vocabulary words.</summary>
    int UnknownId { get; }

    /// <summary>The id of the start-of-caption mark.</summary>
    int StartId { get; }

    /// <summary>The id of the end-of-caption mark.</summary>
    int EndId { get; }

    /// <summary>The ids of <paramref name="text"/>; marks written in the text (e.g. <c>startseq</c>) map to their special ids.</summary>
    IReadOnlyList<int> EncodeToIds(string text);

    /// <summary>The text of <paramref name="ids"/>; special tokens are left out when <paramref name="skipSpecialTokens"/> is set.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);

    /// <summary>The token of <paramref name="id"/>, or null when the id is out of range.</summary>
    string? IdToToken(int id);

    /// <summary>Looks up the id of a whole vocabulary entry (no tokenization is applied).</summary>
    bool TryGetId(string token, out int id);
}

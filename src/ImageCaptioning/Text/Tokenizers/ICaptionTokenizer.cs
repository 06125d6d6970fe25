using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// A <see cref="Tokenizer"/> whose ids are a caption model's ids as they are: its vocabulary is small enough for the
/// model's output layer and holds the padding, unknown, start and end marks. <see cref="WordTokenizer"/> and
/// <see cref="WordPieceTokenizer"/> are; <see cref="CaptionVocabulary"/> uses their ids unchanged, and maps any other
/// tokenizer's ids to a vocabulary of the training captions.
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

    /// <summary>The text of <paramref name="ids"/>; special tokens are left out when <paramref name="skipSpecialTokens"/> is set.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens);

    /// <summary>The token of <paramref name="id"/>, or null when the id is out of range.</summary>
    string? IdToToken(int id);

    /// <summary>Looks up the id of a whole vocabulary entry (no tokenization is applied).</summary>
    bool TryGetId(string token, out int id);
}

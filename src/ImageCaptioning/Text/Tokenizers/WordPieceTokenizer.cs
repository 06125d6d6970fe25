using System.Text;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// BERT WordPiece over a <c>vocab.txt</c>, matching HuggingFace's <c>BertTokenizer</c> without [CLS]/[SEP]:
/// special tokens are cut out of the text first and never split, the rest goes through BERT's basic tokenization,
/// and each word is split greedily into the longest vocabulary pieces (continuations prefixed by <c>##</c>);
/// a word that cannot be split, or is over <see cref="WordPieceTokenizerOptions.MaxInputCharsPerWord"/> characters,
/// becomes <c>[UNK]</c>. The start and end marks are appended to the vocabulary when it lacks them.
/// </summary>
/// <remarks>
/// A Microsoft.ML.Tokenizers <see cref="Tokenizer"/>, usable wherever that API is. Token offsets refer to the
/// normalized text (<c>NormalizedText</c>): the basic tokenizer's words, lower-cased and without accents as
/// configured, and the special tokens, joined by single spaces. Unlike that package's <c>BertTokenizer</c>, it keeps
/// HuggingFace's rules for ASCII symbols, tabs and line breaks, zero-width characters, accents and decoding (see the
/// README).
/// </remarks>
public sealed class WordPieceTokenizer : CaptionTokenizerBase, ICaptionTokenizer
{
    private readonly List<string> tokens;
    private readonly Dictionary<string, int> ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> spanIds;
    private readonly string[] specialTokens;
    private readonly HashSet<int> specialIds;
    private readonly int firstAddedId;
    private readonly BertPreTokenizer preTokenizer;

    private WordPieceTokenizer(List<string> tokens, Dictionary<string, int> ids, WordPieceTokenizerOptions options, string source)
    {
        this.tokens = tokens;
        this.ids = ids;
        Options = options;
        spanIds = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        PadId = RequireId(options.PadToken, source);
        UnknownId = RequireId(options.UnknownToken, source);
        firstAddedId = tokens.Count;
        StartId = AddToken(options.StartToken);
        EndId = AddToken(options.EndToken);

        var specials = new[] { options.PadToken, options.UnknownToken, options.StartToken, options.EndToken }
            .Concat(options.SpecialTokens.Where(ids.ContainsKey))
            .Distinct(StringComparer.Ordinal);
        // Longest first, so that a special token containing another one wins where both match.
        specialTokens = [.. specials.OrderByDescending(token => token.Length)];
        specialIds = [.. specialTokens.Select(token => ids[token])];
        preTokenizer = new BertPreTokenizer(options.LowerCase, options.StripAccents ?? options.LowerCase, options.TokenizeCjkCharacters);
    }

    /// <summary>Loads a BERT <c>vocab.txt</c> (one token per line, line i is id i).</summary>
    public static WordPieceTokenizer Create(string vocabularyPath, WordPieceTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabularyPath);
        if (!File.Exists(vocabularyPath)) throw new FileNotFoundException($"vocabulary file '{vocabularyPath}' does not exist", vocabularyPath);
        return Create(File.ReadLines(vocabularyPath, Encoding.UTF8), options, vocabularyPath);
    }

    /// <summary>Builds the tokenizer from vocabulary entries (entry i is id i).</summary>
    public static WordPieceTokenizer Create(IEnumerable<string> vocabulary, WordPieceTokenizerOptions? options = null) =>
        Create(vocabulary, options, "the vocabulary");

    private static WordPieceTokenizer Create(IEnumerable<string> vocabulary, WordPieceTokenizerOptions? options, string source)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var tokens = new List<string>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in vocabulary)
        {
            var token = line.TrimEnd('\r', '\n');
            // An empty line still takes an id so that later ids stay aligned with the file.
            if (token.Length > 0 && !ids.TryAdd(token, tokens.Count))
                throw new CaptionFormatException(source, tokens.Count + 1, $"token '{token}' is already on line {ids[token] + 1}");
            tokens.Add(token);
        }
        return new WordPieceTokenizer(tokens, ids, options ?? new WordPieceTokenizerOptions(), source);
    }

    /// <summary>The options in use.</summary>
    public WordPieceTokenizerOptions Options { get; }

    /// <inheritdoc />
    public int VocabularySize => tokens.Count;

    /// <summary>Number of tokens appended to the vocabulary file's (the start/end marks it lacked).</summary>
    public int AddedTokenCount => tokens.Count - firstAddedId;

    /// <inheritdoc />
    public int PadId { get; }

    /// <inheritdoc />
    public int UnknownId { get; }

    /// <inheritdoc />
    public int StartId { get; }

    /// <inheritdoc />
    public int EndId { get; }

    /// <summary>The tokens of <paramref name="text"/> (what HuggingFace's <c>tokenize</c> returns).</summary>
    public IReadOnlyList<string> Tokenize(string text) => [.. EncodeToIds(text).Select(id => tokens[id])];

    private protected override (List<EncodedToken> Tokens, string? NormalizedText) Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<EncodedToken>();
        var normalized = new StringBuilder(text.Length);
        var words = new List<string>();
        var segmentStart = 0;
        var position = 0;
        while (position < text.Length)
        {
            var special = MatchSpecial(text, position);
            if (special is null)
            {
                position++;
                continue;
            }
            EncodeSegment(text[segmentStart..position], words, result, normalized);
            AppendWord(normalized, special, out var start);
            result.Add(new EncodedToken(ids[special], special, start..normalized.Length));
            position += special.Length;
            segmentStart = position;
        }
        EncodeSegment(text[segmentStart..], words, result, normalized);
        return (result, normalized.ToString());
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        // As HuggingFace: pieces join with spaces and "##" glues continuations.
        var parts = new List<string>();
        var current = new List<string>();
        foreach (var id in ids)
        {
            var token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of this {tokens.Count}-token vocabulary");
            if (skipSpecialTokens && specialIds.Contains(id)) continue;
            // Only tokens added beyond vocab.txt stand apart; vocabulary specials glue like any piece (HuggingFace's rule).
            if (id >= firstAddedId)
            {
                Flush();
                parts.Add(token);
            }
            else
            {
                current.Add(token);
            }
        }
        Flush();
        var text = string.Join(' ', parts);
        return Options.CleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;

        void Flush()
        {
            if (current.Count == 0) return;
            parts.Add(string.Join(' ', current).Replace(" " + Options.ContinuingSubwordPrefix, "", StringComparison.Ordinal).Trim());
            current.Clear();
        }
    }

    /// <inheritdoc />
    public string? IdToToken(int id) => (uint)id < (uint)tokens.Count ? tokens[id] : null;

    /// <inheritdoc />
    public bool TryGetId(string token, out int id) => ids.TryGetValue(token, out id);

    private void EncodeSegment(string segment, List<string> words, List<EncodedToken> result, StringBuilder normalized)
    {
        if (segment.Length == 0) return;
        words.Clear();
        preTokenizer.Tokenize(segment, words);
        foreach (var word in words)
        {
            AppendWord(normalized, word, out var start);
            EncodeWord(word, start, result);
        }
    }

    private static void AppendWord(StringBuilder normalized, string word, out int start)
    {
        if (normalized.Length > 0) normalized.Append(' ');
        start = normalized.Length;
        normalized.Append(word);
    }

    // Greedy longest-match-first over code points, as BERT's WordpieceTokenizer. A piece's offset is its part of the
    // word (without the continuation prefix); an unsplittable word is one unknown token over the whole word.
    private void EncodeWord(string word, int offset, List<EncodedToken> result)
    {
        var codePoints = 0;
        foreach (var _ in word.EnumerateRunes()) codePoints++;
        if (codePoints > Options.MaxInputCharsPerWord)
        {
            result.Add(new EncodedToken(UnknownId, tokens[UnknownId], offset..(offset + word.Length)));
            return;
        }

        var prefix = Options.ContinuingSubwordPrefix;
        Span<char> buffer = word.Length + prefix.Length <= 256 ? stackalloc char[256] : new char[word.Length + prefix.Length];
        prefix.CopyTo(buffer);
        var firstPiece = result.Count;
        var start = 0;
        while (start < word.Length)
        {
            var end = word.Length;
            var found = -1;
            while (end > start)
            {
                var piece = word.AsSpan(start, end - start);
                scoped ReadOnlySpan<char> candidate = piece;
                if (start > 0)
                {
                    piece.CopyTo(buffer[prefix.Length..]);
                    candidate = buffer[..(prefix.Length + piece.Length)];
                }
                if (spanIds.TryGetValue(candidate, out found)) break;
                found = -1;
                end--;
                if (end > start && char.IsLowSurrogate(word[end])) end--;
            }
            if (found < 0)
            {
                result.RemoveRange(firstPiece, result.Count - firstPiece);
                result.Add(new EncodedToken(UnknownId, tokens[UnknownId], offset..(offset + word.Length)));
                return;
            }
            result.Add(new EncodedToken(found, tokens[found], (offset + start)..(offset + end)));
            start = end;
        }
    }

    private string? MatchSpecial(string text, int position)
    {
        foreach (var special in specialTokens)
            if (string.CompareOrdinal(text, position, special, 0, special.Length) == 0) return special;
        return null;
    }

    private int AddToken(string token)
    {
        if (ids.TryGetValue(token, out var id)) return id;
        id = tokens.Count;
        tokens.Add(token);
        ids.Add(token, id);
        return id;
    }

    private int RequireId(string token, string source) =>
        ids.TryGetValue(token, out var id) ? id : throw new ArgumentException($"{source} lacks the token '{token}'");
}

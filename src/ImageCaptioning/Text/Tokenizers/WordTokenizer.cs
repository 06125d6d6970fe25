using ImageCaptioning.IO;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// A word-level vocabulary (the Keras <c>Tokenizer</c> of the recipe) over cleaned, space-separated captions.
/// Ids: 0 pad, 1 unknown, 2 start, 3 end, then words by descending count, ties in ordinal order, so the same
/// captions always give the same ids. A Microsoft.ML.Tokenizers <see cref="Tokenizer"/>: words are the text's white
/// space-separated runs, with offsets into the text as given.
/// </summary>
public sealed class WordTokenizer : CaptionTokenizerBase, ICaptionTokenizer
{
    internal const int SpecialTokenCount = 4;
    private readonly string[] tokens;
    private readonly Dictionary<string, int> ids;

    private WordTokenizer(string[] tokens, Dictionary<string, int> ids)
    {
        this.tokens = tokens;
        this.ids = ids;
    }

    /// <summary>Counts the words of <paramref name="captions"/> and keeps the frequent ones.</summary>
    public static WordTokenizer Train(IEnumerable<string> captions, WordTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(captions);
        options ??= new WordTokenizerOptions();
        string[] specials = [options.PadToken, options.UnknownToken, options.StartToken, options.EndToken];
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var caption in captions)
            foreach (var word in caption.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries))
                counts[word] = counts.GetValueOrDefault(word) + 1;
        foreach (var special in specials) counts.Remove(special);

        var words = counts
            .Where(pair => pair.Value >= options.MinCount)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Key)
            .Take((options.MaxVocabularySize ?? int.MaxValue) - SpecialTokenCount);
        return FromTokens([.. specials, .. words], null);
    }

    /// <summary>Loads a vocabulary written by <see cref="Save"/>: one token per line, line i is id i.</summary>
    public static WordTokenizer Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file '{path}' does not exist", path);
        return FromTokens(File.ReadAllLines(path, Encoding.UTF8), path);
    }

    /// <summary>Writes the vocabulary, one token per line, atomically (a temporary file renamed over the target).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            foreach (var token in tokens) writer.WriteLine(token);
        });
    }

    /// <summary>The tokens, indexed by id.</summary>
    public IReadOnlyList<string> Vocabulary => tokens;

    /// <inheritdoc />
    public int VocabularySize => tokens.Length;

    /// <inheritdoc />
    public int PadId => 0;

    /// <inheritdoc />
    public int UnknownId => 1;

    /// <inheritdoc />
    public int StartId => 2;

    /// <inheritdoc />
    public int EndId => 3;

    private protected override (List<EncodedToken> Tokens, string? NormalizedText) Split(string text)
    {
        var result = new List<EncodedToken>();
        var position = 0;
        while (position < text.Length)
        {
            if (char.IsWhiteSpace(text[position]))
            {
                position++;
                continue;
            }
            var start = position;
            while (position < text.Length && !char.IsWhiteSpace(text[position])) position++;
            var word = text[start..position];
            var id = ids.GetValueOrDefault(word, UnknownId);
            result.Add(new EncodedToken(id, tokens[id], start..position));
        }
        return (result, null);
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new StringBuilder();
        foreach (var id in ids)
        {
            if (skipSpecialTokens && id < SpecialTokenCount) continue;
            var token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of this {tokens.Length}-token vocabulary");
            if (builder.Length > 0) builder.Append(' ');
            builder.Append(token);
        }
        return builder.ToString();
    }

    /// <inheritdoc />
    public string? IdToToken(int id) => (uint)id < (uint)tokens.Length ? tokens[id] : null;

    /// <inheritdoc />
    public bool TryGetId(string token, out int id) => ids.TryGetValue(token, out id);

    private static WordTokenizer FromTokens(string[] tokens, string? path)
    {
        void Fail(int index, string reason) =>
            throw (path is null ? new ArgumentException(reason, nameof(tokens)) : new CaptionFormatException(path, index + 1, reason));

        if (tokens.Length < SpecialTokenCount)
            Fail(Math.Max(tokens.Length - 1, 0), $"a vocabulary needs at least the {SpecialTokenCount} special tokens (pad, unknown, start, end)");
        var ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if (token.Length == 0 || token.Any(char.IsWhiteSpace))
                Fail(i, $"token '{token}' is empty or contains white space");
            if (!ids.TryAdd(token, i))
                Fail(i, $"token '{token}' is already id {ids[token]}");
        }
        return new WordTokenizer(tokens, ids);
    }
}

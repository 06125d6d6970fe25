using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// GPT-2's byte-level BPE from a <c>vocab.json</c> and <c>merges.txt</c>, as Hugging Face's <c>GPT2Tokenizer</c> runs it:
/// special tokens are cut out of the text first, the rest is split by GPT-2's pre-tokenizer pattern, each piece's
/// UTF-8 bytes are mapped to GPT-2's printable byte alphabet and merged by rank (Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/> with <c>ByteLevel</c>). Decoding maps the tokens back to bytes and reads them as UTF-8
/// with U+FFFD for invalid sequences, then optionally applies <c>clean_up_tokenization</c>: exactly Hugging Face's
/// <c>decode</c>.
/// </summary>
public sealed partial class ByteLevelBpeTokenizer : ICaptionTokenizer
{
    /// <summary>GPT-2's pre-tokenizer pattern (contractions, letters, digits, other symbols, each with one leading space; runs of spaces).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2's start, end, unknown and padding token.</summary>
    public const string EndOfText = "<|endoftext|>";

    private static readonly char[] ByteToChar = BuildByteAlphabet();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, (byte)b)).ToDictionary(p => p.c, p => p.Item2);

    private readonly BpeTokenizer bpe;
    private readonly string[] tokens;
    private readonly HashSet<int> specialIds;

    private ByteLevelBpeTokenizer(BpeTokenizer bpe, string[] tokens, IReadOnlyDictionary<string, int> specials, int unknown, int start, int end, int pad, bool cleanUp)
    {
        (this.bpe, this.tokens) = (bpe, tokens);
        specialIds = [.. specials.Values];
        (UnknownId, StartId, EndId, PadId, CleanUpTokenizationSpaces) = (unknown, start, end, pad, cleanUp);
    }

    /// <summary>The Microsoft.ML.Tokenizers tokenizer that encodes.</summary>
    public Tokenizer Tokenizer => bpe;

    /// <summary>Whether <see cref="Decode(IEnumerable{int}, bool)"/> applies Hugging Face's <c>clean_up_tokenization</c>.</summary>
    public bool CleanUpTokenizationSpaces { get; }

    /// <inheritdoc />
    public int VocabularySize => tokens.Length;

    /// <inheritdoc />
    public int PadId { get; }

    /// <inheritdoc />
    public int UnknownId { get; }

    /// <inheritdoc />
    public int StartId { get; }

    /// <inheritdoc />
    public int EndId { get; }

    /// <summary>
    /// Loads the tokenizer. The start, end, unknown and padding tokens default to GPT-2's <c>&lt;|endoftext|&gt;</c>;
    /// each must be in the vocabulary. <paramref name="cleanUpTokenizationSpaces"/> is Hugging Face's
    /// <c>clean_up_tokenization_spaces</c> (tokenizer_config.json; false in current transformers).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">vocab.json is not an object of token → id, ids repeat or leave gaps, a line
    /// of merges.txt is not two tokens, or a special token is not in the vocabulary; the message names the file and the
    /// key or line.</exception>
    public static ByteLevelBpeTokenizer Create(string vocabularyPath, string mergesPath, bool cleanUpTokenizationSpaces = false,
        string startToken = EndOfText, string endToken = EndOfText, string unknownToken = EndOfText, string? padToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabularyPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesPath);
        foreach (var path in new[] { vocabularyPath, mergesPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: a GPT-2 tokenizer needs vocab.json and merges.txt", path);

        var vocabulary = ReadVocabulary(vocabularyPath);
        var tokens = new string[vocabulary.Count];
        foreach (var (token, id) in vocabulary)
        {
            if ((uint)id >= (uint)tokens.Length)
                throw new InvalidDataException($"{vocabularyPath}: '{token}' has id {id}, outside [0, {tokens.Length}): the ids must be 0 to {tokens.Length - 1}, each once");
            if (tokens[id] is { } other)
                throw new InvalidDataException($"{vocabularyPath}: '{token}' and '{other}' both have id {id}");
            tokens[id] = token;
        }
        CheckMerges(mergesPath, vocabulary);

        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        int Special(string token, string role) => vocabulary.TryGetValue(token, out var id)
            ? specials[token] = id
            : throw new InvalidDataException($"{vocabularyPath}: the {role} token '{token}' is not in the vocabulary");
        var start = Special(startToken, "start");
        var end = Special(endToken, "end");
        var unknown = Special(unknownToken, "unknown");
        var pad = padToken is null ? end : Special(padToken, "padding");

        var options = new BpeOptions(vocabulary)
        {
            Merges = ReadMergeLines(mergesPath),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2Regex(), specials),
            SpecialTokens = specials,
        };
        return new ByteLevelBpeTokenizer(BpeTokenizer.Create(options), tokens, specials, unknown, start, end, pad, cleanUpTokenizationSpaces);
    }

    /// <summary>The ids of <paramref name="text"/>, special tokens written in it kept as their ids.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return bpe.EncodeToIds(text);
    }

    /// <summary>Hugging Face's <c>decode(ids, skip_special_tokens=skipSpecialTokens)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of this {tokens.Length}-token vocabulary");
            if (specialIds.Contains(id))
            {
                if (skipSpecialTokens) continue;
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
                continue;
            }
            // A token outside the byte alphabet (an added token) decodes as its own text, as Hugging Face's byte decoder leaves it.
            foreach (var c in token)
            {
                if (CharToByte.TryGetValue(c, out var b)) bytes.Add(b);
                else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        // .NET's UTF-8 decoder replaces each maximal invalid subsequence with one U+FFFD, as Python's errors="replace".
        var text = Encoding.UTF8.GetString(bytes.ToArray());
        return CleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;
    }

    /// <inheritdoc />
    public string? IdToToken(int id) => (uint)id < (uint)tokens.Length ? tokens[id] : null;

    /// <inheritdoc />
    public bool TryGetId(string token, out int id) => bpe.Vocabulary.TryGetValue(token, out id);

    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Regex();

    private static Dictionary<string, int> ReadVocabulary(string path)
    {
        try
        {
            var bytes = IO.JsonFile.ReadBytes(path, "vocab.json");
            IO.Utf8Text.Require(bytes, path);
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: vocab.json must be one object of token → id");
            var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id))
                    throw new InvalidDataException($"{path}: '{entry.Name}' must map to an integer id, not {entry.Value.ValueKind}");
                if (!vocabulary.TryAdd(entry.Name, id)) throw new InvalidDataException($"{path}: '{entry.Name}' appears twice");
            }
            return vocabulary;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    private static List<string> ReadMergeLines(string path) =>
        [.. IO.Utf8Text.ReadLines(path).Where((line, i) => !(i == 0 && line.StartsWith("#version", StringComparison.Ordinal)) && line.Length > 0)];

    private static void CheckMerges(string path, Dictionary<string, int> vocabulary)
    {
        var number = 0;
        // Microsoft.ML.Tokenizers' BpeTokenizer fails on a repeated merge with a bare ArgumentException, and Python's
        // slow tokenizer would silently rank it by its last line: a repeat is refused, naming both lines.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in IO.Utf8Text.ReadLines(path))
        {
            number++;
            if ((number == 1 && line.StartsWith("#version", StringComparison.Ordinal)) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{path}: line {number} must be two tokens separated by one space, not '{line}'");
            if (!seen.TryAdd(line, number))
                throw new InvalidDataException($"{path}: line {number} repeats the merge '{line}' of line {seen[line]}");
            if (!vocabulary.ContainsKey(parts[0] + parts[1]))
                throw new InvalidDataException($"{path}: line {number} merges '{parts[0]}' and '{parts[1]}' into '{parts[0] + parts[1]}', which is not in vocab.json");
        }
    }

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others are shifted to 256 and up.
    private static char[] BuildByteAlphabet()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}

using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Text;

/// <summary>
/// The ids a caption model reads and writes, over any Microsoft.ML.Tokenizers <see cref="Tokenizer"/> (BertTokenizer,
/// WordPieceTokenizer, TiktokenTokenizer, SentencePieceTokenizer, ... or this library's own), with the caption start
/// and end marks handled here: every encoded caption starts with <see cref="StartId"/> and ends with
/// <see cref="EndId"/>, and <see cref="Decode"/> leaves the marks and padding out. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// An <see cref="ICaptionTokenizer"/> (<see cref="WordTokenizer"/>, <see cref="WordPieceTokenizer"/>) knows its marks
/// and its whole id range: its ids are the model's unchanged.
/// </para>
/// <para>
/// Any other tokenizer has neither a size the model's output layer could afford (Tiktoken's 100k-200k ids) nor
/// caption marks, so the vocabulary is built from the training captions: ids 0-3 are padding, unknown, start and end,
/// then each tokenizer id seen in the training captions (at least <see cref="CaptionVocabularyOptions.MinCount"/>
/// times), in ascending order. Ids never seen map to unknown. The cleaner's marks
/// (<see cref="CaptionVocabularyOptions.StartMark"/>, <see cref="CaptionVocabularyOptions.EndMark"/>) are removed
/// from the text before it reaches the tokenizer, which would otherwise split them into ordinary tokens.
/// </para>
/// </remarks>
public sealed class CaptionVocabulary
{
    private const int MappedSpecials = 4;
    private readonly ICaptionTokenizer? own;
    private readonly int[]? tokenizerIds;
    private readonly Dictionary<int, int>? modelIds;

    private CaptionVocabulary(Tokenizer tokenizer, CaptionVocabularyOptions options, ICaptionTokenizer? own, int[]? tokenizerIds)
    {
        Tokenizer = tokenizer;
        Options = options;
        this.own = own;
        if (own is not null)
        {
            (VocabularySize, PadId, UnknownId, StartId, EndId) = (own.VocabularySize, own.PadId, own.UnknownId, own.StartId, own.EndId);
            return;
        }

        this.tokenizerIds = tokenizerIds!;
        modelIds = new Dictionary<int, int>(tokenizerIds!.Length);
        for (var i = MappedSpecials; i < tokenizerIds.Length; i++)
            if (!modelIds.TryAdd(tokenizerIds[i], i))
                throw new ArgumentException($"tokenizer id {tokenizerIds[i]} appears twice", nameof(tokenizerIds));
        (VocabularySize, PadId, UnknownId, StartId, EndId) = (tokenizerIds.Length, 0, 1, 2, 3);
    }

    /// <summary>The vocabulary of an <see cref="ICaptionTokenizer"/>: its ids unchanged.</summary>
    /// <exception cref="ArgumentException">The tokenizer is not an <see cref="ICaptionTokenizer"/>: use the overload with the training captions.</exception>
    public static CaptionVocabulary Create(Tokenizer tokenizer, CaptionVocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer is ICaptionTokenizer own
            ? new CaptionVocabulary(tokenizer, options ?? new CaptionVocabularyOptions(), own, null)
            : throw new ArgumentException(
                $"a {tokenizer.GetType().Name} has no caption marks or model-sized vocabulary: build the vocabulary from the training captions with CaptionVocabulary.Create(tokenizer, captions)",
                nameof(tokenizer));
    }

    /// <summary>
    /// The vocabulary of <paramref name="tokenizer"/> for captions like <paramref name="trainingCaptions"/>: an
    /// <see cref="ICaptionTokenizer"/>'s ids unchanged (the captions are not read), any other tokenizer's ids
    /// mapped as the remarks describe.
    /// </summary>
    public static CaptionVocabulary Create(Tokenizer tokenizer, IEnumerable<string> trainingCaptions, CaptionVocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(trainingCaptions);
        options ??= new CaptionVocabularyOptions();
        if (tokenizer is ICaptionTokenizer own) return new CaptionVocabulary(tokenizer, options, own, null);

        var counts = new Dictionary<int, int>();
        foreach (var caption in trainingCaptions)
            foreach (var id in tokenizer.EncodeToIds(WithoutMarks(caption, options)))
                counts[id] = counts.GetValueOrDefault(id) + 1;
        int[] ids = [-1, -1, -1, -1, .. counts.Where(pair => pair.Value >= options.MinCount).Select(pair => pair.Key).Order()];
        return new CaptionVocabulary(tokenizer, options, null, ids);
    }

    /// <summary>
    /// A mapped vocabulary as <see cref="TokenizerIds"/> listed it (a saved model's): model id i is tokenizer id
    /// <c>tokenizerIds[i]</c> for i ≥ 4.
    /// </summary>
    public static CaptionVocabulary FromTokenizerIds(Tokenizer tokenizer, IReadOnlyList<int> tokenizerIds, CaptionVocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(tokenizerIds);
        if (tokenizer is ICaptionTokenizer)
            throw new ArgumentException($"a {tokenizer.GetType().Name} uses its own ids: call CaptionVocabulary.Create(tokenizer)", nameof(tokenizer));
        if (tokenizerIds.Count < MappedSpecials)
            throw new ArgumentException($"a mapped vocabulary starts with its {MappedSpecials} special ids", nameof(tokenizerIds));
        return new CaptionVocabulary(tokenizer, options ?? new CaptionVocabularyOptions(), null, [-1, -1, -1, -1, .. tokenizerIds.Skip(MappedSpecials)]);
    }

    /// <summary>The tokenizer that splits caption text.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The marks and minimum count in use.</summary>
    public CaptionVocabularyOptions Options { get; }

    /// <summary>Whether the tokenizer's ids are mapped to a vocabulary of the training captions (false: used unchanged).</summary>
    public bool IsMapped => tokenizerIds is not null;

    /// <summary>For a mapped vocabulary, the tokenizer id of each model id (-1 for the four special ids); null otherwise.</summary>
    public IReadOnlyList<int>? TokenizerIds => tokenizerIds;

    /// <summary>Number of model ids: every id is in [0, VocabularySize).</summary>
    public int VocabularySize { get; }

    /// <summary>The padding id; batches fill unused positions with it and the loss ignores it.</summary>
    public int PadId { get; }

    /// <summary>The id of tokens outside the vocabulary.</summary>
    public int UnknownId { get; }

    /// <summary>The id of the start-of-caption mark.</summary>
    public int StartId { get; }

    /// <summary>The id of the end-of-caption mark.</summary>
    public int EndId { get; }

    /// <summary>The model ids of <paramref name="caption"/>: <see cref="StartId"/>, its tokens, <see cref="EndId"/>.</summary>
    public IReadOnlyList<int> Encode(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var ids = new List<int>();
        if (own is not null)
        {
            // This library's tokenizers map the cleaner's marks to their ids; a caption without them gets them here.
            var encoded = Tokenizer.EncodeToIds(caption);
            if (encoded.Count == 0 || encoded[0] != StartId) ids.Add(StartId);
            ids.AddRange(encoded);
            if (ids.Count == 1 || ids[^1] != EndId) ids.Add(EndId);
            return ids;
        }

        ids.Add(StartId);
        foreach (var id in Tokenizer.EncodeToIds(WithoutMarks(caption, Options)))
            ids.Add(modelIds!.TryGetValue(id, out var modelId) ? modelId : UnknownId);
        ids.Add(EndId);
        return ids;
    }

    /// <summary>The caption text of model ids, without padding and marks; an unknown id reads as <see cref="CaptionVocabularyOptions.UnknownText"/>.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (own is not null) return own.Decode(ids, skipSpecialTokens: true);

        var parts = new List<string>();
        var run = new List<int>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)VocabularySize) throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of this {VocabularySize}-id vocabulary");
            if (id == PadId || id == StartId || id == EndId) continue;
            if (id == UnknownId)
            {
                Flush();
                parts.Add(Options.UnknownText);
                continue;
            }
            run.Add(tokenizerIds![id]);
        }
        Flush();
        return string.Join(' ', parts);

        void Flush()
        {
            if (run.Count == 0) return;
            var text = Tokenizer.Decode(run).Trim();
            if (text.Length > 0) parts.Add(text);
            run.Clear();
        }
    }

    private static string WithoutMarks(string caption, CaptionVocabularyOptions options)
    {
        var text = caption.Trim();
        if (options.StartMark is { Length: > 0 } start && StartsWithWord(text, start)) text = text[start.Length..].TrimStart();
        if (options.EndMark is { Length: > 0 } end && text.EndsWith(end, StringComparison.Ordinal) && (text.Length == end.Length || char.IsWhiteSpace(text[^(end.Length + 1)])))
            text = text[..^end.Length].TrimEnd();
        return text;
    }

    private static bool StartsWithWord(string text, string word) =>
        text.StartsWith(word, StringComparison.Ordinal) && (text.Length == word.Length || char.IsWhiteSpace(text[word.Length]));
}

/// <summary>How <see cref="CaptionVocabulary"/> treats caption marks and rare tokens of a tokenizer whose ids it maps.</summary>
public sealed record CaptionVocabularyOptions
{
    /// <summary>The word the caption cleaner puts first (<see cref="CaptionCleaningOptions.StartMark"/>), removed before tokenization; null for none.</summary>
    public string? StartMark { get; init; } = CaptionCleaningOptions.Default.StartMark;

    /// <summary>The word the caption cleaner puts last (<see cref="CaptionCleaningOptions.EndMark"/>), removed before tokenization; null for none.</summary>
    public string? EndMark { get; init; } = CaptionCleaningOptions.Default.EndMark;

    /// <summary>Tokenizer ids seen fewer times than this in the training captions map to unknown.</summary>
    public int MinCount
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = 1;

    /// <summary>How an unknown id reads in decoded text.</summary>
    public string UnknownText { get; init; } = "<unk>";
}

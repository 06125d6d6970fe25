using System.Globalization;
using System.Text;
using ImageCaptioning.IO;
using ImageCaptioning.Text;
using Tokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace ImageCaptioning.Persistence;

/// <summary>
/// The <c>tokenizer</c> section of config.json, and the vocabulary file it describes: a <see cref="WordTokenizer"/>
/// or <see cref="WordPieceTokenizer"/> is saved whole; a vocabulary mapped over another tokenizer saves its id map.
/// </summary>
internal sealed class TokenizerConfig
{
    private const string WordKind = "word";
    private const string WordPieceKind = "wordpiece";
    private const string MappedKind = "mapped";
    private static readonly string[] MappedSpecialNames = ["<pad>", "<unk>", "<start>", "<end>"];

    public string? Kind { get; set; }
    public string VocabularyFile { get; set; } = CaptionerFolder.VocabularyFileName;
    public WordPieceTokenizerOptions? WordPiece { get; set; }
    public string? TokenizerType { get; set; }
    public string? StartMark { get; set; }
    public string? EndMark { get; set; }
    public string? UnknownText { get; set; }

    /// <summary>Whether a folder can hold <paramref name="vocabulary"/>: its tokenizer is one of this library's, or its ids are mapped.</summary>
    public static bool CanStore(CaptionVocabulary vocabulary) => vocabulary.IsMapped || vocabulary.Tokenizer is WordTokenizer or WordPieceTokenizer;

    public static TokenizerConfig From(CaptionVocabulary vocabulary) => vocabulary switch
    {
        { IsMapped: true } mapped => new TokenizerConfig
        {
            Kind = MappedKind, TokenizerType = mapped.Tokenizer.GetType().FullName,
            StartMark = mapped.Options.StartMark, EndMark = mapped.Options.EndMark, UnknownText = mapped.Options.UnknownText,
        },
        { Tokenizer: WordPieceTokenizer wordPiece } => new TokenizerConfig { Kind = WordPieceKind, WordPiece = wordPiece.Options },
        _ => new TokenizerConfig { Kind = WordKind },
    };

    /// <summary>Writes the vocabulary file of <paramref name="vocabulary"/>, line i for id i.</summary>
    public static void WriteVocabulary(string path, CaptionVocabulary vocabulary)
    {
        if (vocabulary.TokenizerIds is { } tokenizerIds)
        {
            WriteLines(path, MappedSpecialNames.Concat(tokenizerIds.Skip(MappedSpecialNames.Length).Select(id => id.ToString(CultureInfo.InvariantCulture))));
            return;
        }
        switch (vocabulary.Tokenizer)
        {
            case WordTokenizer word:
                word.Save(path);
                break;
            case WordPieceTokenizer wordPiece:
                // Only the vocabulary file's own entries: the start/end marks it lacked are added again on load,
                // which keeps them "added tokens" for decoding, as they were.
                var count = wordPiece.VocabularySize - wordPiece.AddedTokenCount;
                WriteLines(path, Enumerable.Range(0, count).Select(id => wordPiece.IdToToken(id) ?? ""));
                break;
        }
    }

    /// <summary>The vocabulary this section and <paramref name="vocabularyPath"/> describe; errors name the file.</summary>
    /// <exception cref="ArgumentException">A mapped vocabulary needs <paramref name="tokenizer"/>, or one of its type.</exception>
    /// <exception cref="InvalidDataException">The kind is unknown or the vocabulary file is malformed.</exception>
    public CaptionVocabulary ReadVocabulary(string vocabularyPath, string configPath, Tokenizer? tokenizer) => Kind switch
    {
        WordKind => CaptionVocabulary.Create(WordTokenizer.Load(vocabularyPath)),
        WordPieceKind => CaptionVocabulary.Create(WordPieceTokenizer.Create(vocabularyPath, WordPiece ?? new WordPieceTokenizerOptions())),
        MappedKind => ReadMapped(vocabularyPath, configPath, tokenizer),
        var kind => throw new InvalidDataException($"{configPath}: unknown tokenizer kind '{kind}' (expected '{WordKind}', '{WordPieceKind}' or '{MappedKind}')"),
    };

    private CaptionVocabulary ReadMapped(string vocabularyPath, string configPath, Tokenizer? tokenizer)
    {
        if (tokenizer is null)
            throw new ArgumentException($"{configPath}: the model's vocabulary is mapped over a {TokenizerType}; pass that tokenizer to Load", nameof(tokenizer));
        if (tokenizer.GetType().FullName != TokenizerType)
            throw new ArgumentException($"{configPath}: the model's vocabulary is mapped over a {TokenizerType}, not a {tokenizer.GetType().FullName}", nameof(tokenizer));
        var lines = File.ReadAllLines(vocabularyPath, Encoding.UTF8);
        if (lines.Length < MappedSpecialNames.Length || !lines.Take(MappedSpecialNames.Length).SequenceEqual(MappedSpecialNames))
            throw new InvalidDataException($"{vocabularyPath}: a mapped vocabulary starts with {string.Join(", ", MappedSpecialNames)}");
        var ids = new int[lines.Length];
        for (var i = MappedSpecialNames.Length; i < lines.Length; i++)
            if (!int.TryParse(lines[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new InvalidDataException($"{vocabularyPath}: line {i + 1} is not a tokenizer id: '{lines[i]}'");
        var options = new CaptionVocabularyOptions { StartMark = StartMark, EndMark = EndMark, UnknownText = UnknownText ?? "<unk>" };
        try
        {
            return CaptionVocabulary.FromTokenizerIds(tokenizer, ids, options);
        }
        catch (ArgumentException e) when (e.ParamName == "tokenizerIds")
        {
            throw new InvalidDataException($"{vocabularyPath}: {e.Message}", e);
        }
    }

    private static void WriteLines(string path, IEnumerable<string> lines) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
        foreach (var line in lines) writer.Write(line + "\n");
    });
}

using System.Text;
using System.Text.Json.Nodes;
using ImageCaptioning.Text;

namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// BLIP's tokenizer: BERT WordPiece over vocab.txt with the library's own <see cref="WordPieceTokenizer"/> (Hugging
/// Face's rules for symbols, emoji and control characters), uncased unless tokenizer_config.json says otherwise, plus
/// the tokens BLIP added after the vocabulary (<c>[DEC]</c>, the decoder's start, and <c>[ENC]</c>), read from
/// added_tokens.json or tokenizer.json. Captions decode as <c>decode(ids, skip_special_tokens=True)</c>.
/// </summary>
internal static class BlipTokenizer
{
    public const string VocabularyFile = "vocab.txt", AddedTokensFile = "added_tokens.json", FastTokenizerFile = "tokenizer.json",
        SpecialTokensFile = "special_tokens_map.json";

    /// <summary>The tokenizer of <paramref name="folder"/>, checked against the text config's ids and embedding rows.</summary>
    /// <exception cref="InvalidDataException">The files disagree with config.json; the message names the file, the token and the key.</exception>
    public static WordPieceTokenizer Create(PretrainedFolder folder, BlipTextConfig text)
    {
        var vocabularyPath = folder.RequireFile(VocabularyFile, "the BERT WordPiece tokenizer");
        var lines = IO.Utf8Text.ReadLines(vocabularyPath).ToList();
        // vocab.txt ends with a line break; File.ReadAllLines already drops that last empty entry.
        var entries = lines.Count;
        if (entries > text.VocabSize)
            throw new InvalidDataException($"{vocabularyPath}: {entries} tokens, but 'text_decoder.bert.embeddings.word_embeddings.weight' has {text.VocabSize} rows ('text_config.vocab_size' in {PretrainedFolder.ConfigFile}): the vocabulary is not this model's");

        var tokenizerConfig = folder.ReadTokenizerConfig();
        if (tokenizerConfig is not null && !tokenizerConfig.Bool("do_basic_tokenize", true))
            throw tokenizerConfig.Invalid("do_basic_tokenize", "is false; BERT's basic tokenization is always applied");
        var startToken = tokenizerConfig?.String("bos_token") ?? "[DEC]";
        var added = AddedTokens(folder, entries);
        // Without a record of it, [DEC] is the first token after the vocabulary, as BLIP's tokenizer adds it.
        if (!added.ContainsKey(startToken) && !lines.Contains(startToken)) added[startToken] = entries + added.Count;
        foreach (var extra in SpecialTokens(folder))
            if (!added.ContainsKey(extra) && !lines.Contains(extra)) added[extra] = entries + added.Count;
        var ordered = added.OrderBy(pair => pair.Value).ToList();
        for (var i = 0; i < ordered.Count; i++)
            if (ordered[i].Value != entries + i)
                throw new InvalidDataException($"{folder.File(AddedTokensFile)}: the added token '{ordered[i].Key}' has id {ordered[i].Value}, but added tokens must follow vocab.txt's {entries} tokens without gaps (next id {entries + i})");
        lines.AddRange(ordered.Select(pair => pair.Key));
        if (lines.Count > text.VocabSize)
            throw new InvalidDataException($"{vocabularyPath}: {entries} tokens and {ordered.Count} added ones exceed the {text.VocabSize} rows of 'text_decoder.bert.embeddings.word_embeddings.weight' ('text_config.vocab_size' in {PretrainedFolder.ConfigFile})");

        var options = new WordPieceTokenizerOptions
        {
            LowerCase = tokenizerConfig?.Bool("do_lower_case", true) ?? true,
            StripAccents = tokenizerConfig?.Value("strip_accents") is null ? null : tokenizerConfig.Bool("strip_accents", true),
            TokenizeCjkCharacters = tokenizerConfig?.Bool("tokenize_chinese_chars", true) ?? true,
            UnknownToken = tokenizerConfig?.String("unk_token") ?? "[UNK]",
            PadToken = tokenizerConfig?.String("pad_token") ?? "[PAD]",
            StartToken = startToken,
            EndToken = tokenizerConfig?.String("sep_token") ?? "[SEP]",
            SpecialTokens = [.. new[] { tokenizerConfig?.String("cls_token") ?? "[CLS]", tokenizerConfig?.String("mask_token") ?? "[MASK]" }.Concat(ordered.Select(pair => pair.Key))],
            CleanUpTokenizationSpaces = tokenizerConfig?.Bool("clean_up_tokenization_spaces", true) ?? true,
        };
        WordPieceTokenizer tokenizer;
        try
        {
            tokenizer = WordPieceTokenizer.Create(lines, options);
        }
        catch (Exception e) when (e is ArgumentException or CaptionFormatException)
        {
            throw new InvalidDataException($"{vocabularyPath}: {e.Message}", e);
        }
        var source = File.Exists(folder.File(AddedTokensFile)) ? $"{vocabularyPath} with {folder.File(AddedTokensFile)}" : vocabularyPath;
        Require(source, options.StartToken, tokenizer.StartId, "bos_token_id", text.BosTokenId);
        Require(source, options.EndToken, tokenizer.EndId, "sep_token_id", text.SepTokenId);
        Require(source, options.PadToken, tokenizer.PadId, "pad_token_id", text.PadTokenId);
        return tokenizer;
    }

    private static void Require(string source, string token, int id, string key, int configured)
    {
        if (id != configured)
            throw new InvalidDataException($"{source}: the token '{token}' has id {id}, but 'text_config.{key}' in {PretrainedFolder.ConfigFile} is {configured}: the vocabulary is not this model's");
    }

    // The tokens Hugging Face appended after vocab.txt: added_tokens.json ({"[DEC]": 30522, ...}), else the
    // "added_tokens" of tokenizer.json whose ids are past the vocabulary.
    private static Dictionary<string, int> AddedTokens(PretrainedFolder folder, int entries)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        var addedPath = folder.File(AddedTokensFile);
        if (File.Exists(addedPath))
        {
            var node = Parse(addedPath, "added tokens") as JsonObject ?? throw new InvalidDataException($"{addedPath}: must be one JSON object of token to id");
            foreach (var (token, value) in node)
                result[token] = value is JsonValue v && v.TryGetValue<int>(out var id) && id >= 0
                    ? id : throw new InvalidDataException($"{addedPath}: '{token}' must map to a non-negative integer id");
            return result;
        }
        var fastPath = folder.File(FastTokenizerFile);
        if (!File.Exists(fastPath)) return result;
        if (Parse(fastPath, "fast tokenizer")?["added_tokens"] is not JsonArray tokens) return result;
        foreach (var item in tokens)
        {
            if (item?["content"]?.GetValue<string>() is not { } content || item["id"] is not JsonValue idNode || !idNode.TryGetValue<int>(out var id))
                throw new InvalidDataException($"{fastPath}: every entry of 'added_tokens' needs a string 'content' and an integer 'id'");
            if (id >= entries) result[content] = id;
        }
        return result;
    }

    private static IEnumerable<string> SpecialTokens(PretrainedFolder folder)
    {
        var path = folder.File(SpecialTokensFile);
        if (!File.Exists(path)) return [];
        return Parse(path, "special tokens map")?["additional_special_tokens"] is JsonArray extra
            ? [.. extra.Select(e => e is JsonValue v && v.TryGetValue<string>(out var s) ? s : e?["content"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: 'additional_special_tokens' must list strings"))]
            : [];
    }

    private static JsonNode? Parse(string path, string what)
    {
        try
        {
            var bytes = IO.JsonFile.ReadBytes(path, what);
            IO.Utf8Text.Require(bytes, path);
            return JsonNode.Parse(bytes);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid {what} file ({e.Message})", e);
        }
    }
}

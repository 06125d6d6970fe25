using ImageCaptioning.Tests.Data;
using ImageCaptioning.Text;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

public sealed class CaptionCleanerTests
{
    [TestCase("A dog's ball, 2 kids & a cat!", "startseq dog ball kids cat endseq")]
    [TestCase("Café au lait", "startseq caf au lait endseq")]
    [TestCase("  TWO\tdogs\r\n", "startseq two dogs endseq")]
    [TestCase(" A . 1 ", null)]
    [TestCase("", null)]
    public void DefaultRulesAreTheRecipes(string caption, string? expected) =>
        Assert.That(new CaptionCleaner().Clean(caption), Is.EqualTo(expected));

    /// <summary>A control character would split "dog" into "d" and "og", and the recipe drops the one-letter word.</summary>
    [TestCase("a d\0og runs", 0x0000, 4)]
    [TestCase("\u0007bell", 0x0007, 1)]
    [TestCase("a dog\u007f", 0x007F, 6)]
    [TestCase("a\u0085dog", 0x0085, 2)]
    public void ControlCharactersAreAnErrorNotASilentlyChangedWord(string caption, int code, int position)
    {
        var error = Assert.Throws<ArgumentException>(() => new CaptionCleaner().Clean(caption));
        Assert.That(error!.Message, Does.StartWith($"the caption holds the control character U+{code:X4} at character {position}"));

        var corpus = CaptionCorpus.Create([new ImageCaption("a.jpg", "a dog"), new ImageCaption("b.jpg", caption)]);
        var inCorpus = Assert.Throws<ArgumentException>(() => new CaptionCleaner().Clean(corpus));
        Assert.That(inCorpus!.Message, Does.StartWith("image 'b.jpg': the caption holds"));
    }

    [Test]
    public void EachRuleCanBeChanged()
    {
        Assert.That(new CaptionCleaner(new() { Lowercase = false }).Clean("A Dog, ok"), Is.EqualTo("startseq Dog ok endseq"));
        Assert.That(new CaptionCleaner(new() { MinWordLength = 1, StartMark = null, EndMark = null }).Clean("a b-c"), Is.EqualTo("a b c"));
        Assert.That(new CaptionCleaner(new() { LettersOnly = false }).Clean("It's 2 dogs!"), Is.EqualTo("startseq it's dogs! endseq"));
        Assert.That(new CaptionCleaner(new() { StartMark = "<SOS>", EndMark = "<EOS>", MinWordLength = 3 }).Clean("a big dog"), Is.EqualTo("<SOS> big dog <EOS>"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CaptionCleaningOptions { MinWordLength = 0 });
    }

    [Test]
    public void CorpusCleaningDropsAndCountsEmptyCaptions()
    {
        var corpus = CaptionCorpus.Create([
            new("a.jpg", "A dog."), new("a.jpg", "?!"), new("b.jpg", "1 2 3"), new("c.jpg", "Cats"),
        ]);
        var logger = new ListLogger();

        var result = new CaptionCleaner().Clean(corpus, logger);

        Assert.That(result.CaptionsRead, Is.EqualTo(4));
        Assert.That(result.EmptyCaptionsDropped, Is.EqualTo(2));
        Assert.That(result.ImagesDropped, Is.EqualTo(1));
        Assert.That(result.Corpus.ImageIds, Is.EqualTo(new[] { "a.jpg", "c.jpg" }));
        Assert.That(result.Corpus["a.jpg"], Is.EqualTo(new[] { "startseq dog endseq" }));
        Assert.That(logger.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Level == LogLevel.Warning && e.Message.Contains("Dropped 2 captions")));
    }
}

using ImageCaptioning.Evaluation;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

[TestFixture]
public sealed class EvaluationTokenizerTests
{
    [TestCase("<SOS> A dog, running on the Grass. <EOS>", new[] { "a", "dog", "running", "on", "the", "grass" })]
    [TestCase("startseq two dogs play endseq", new[] { "two", "dogs", "play" })]
    [TestCase("a man in a t-shirt <eos>.", new[] { "a", "man", "in", "a", "t-shirt" })]
    [TestCase("  a   <unk> ,  sits\tdown\n", new[] { "a", "<unk>", "sits", "down" })]
    [TestCase("", new string[0])]
    [TestCase("<start> <end>", new string[0])]
    public void DefaultTokenizationLowercasesTrimsPunctuationAndDropsMarks(string caption, string[] expected) =>
        Assert.That(EvaluationTokenizer.Default.Tokenize(caption), Is.EqualTo(expected));

    [Test]
    public void MarksAndCaseAreConfigurable()
    {
        var tokenizer = new EvaluationTokenizer(new EvaluationTokenizerOptions
        {
            Lowercase = false,
            TrimPunctuation = false,
            SequenceMarks = ["BEGIN", "FIN"],
        });

        Assert.That(tokenizer.Tokenize("begin A dog. <eos> fin"), Is.EqualTo(new[] { "A", "dog.", "<eos>" }));
    }

    [Test]
    public void AMarkContainingWhiteSpaceIsRejected() =>
        Assert.That(() => new EvaluationTokenizerOptions { SequenceMarks = ["<s> x"] },
            Throws.ArgumentException.With.Message.Contains("Sequence mark 0 ('<s> x')"));
}

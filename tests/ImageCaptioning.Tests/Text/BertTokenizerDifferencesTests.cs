using Microsoft.ML.Tokenizers;
using ImageCaptioning.Testing;
using NUnit.Framework;
using OurWordPiece = ImageCaptioning.Text.WordPieceTokenizer;

namespace ImageCaptioning.Tests.Text;

/// <summary>
/// Where Microsoft.ML.Tokenizers 2.0.1's BertTokenizer departs from HuggingFace's BertTokenizer (uncased), even with
/// its closest options (RemoveNonSpacingMarks, special tokens registered), on the same vocab.txt; and that our
/// WordPieceTokenizer gives HuggingFace's result each time. HuggingFace's rules, from its BasicTokenizer: ASCII
/// non-alphanumerics are punctuation (split off, kept); tab and line break are white space; format characters (Cf,
/// such as U+200B) are removed; accents are stripped when lower-casing; decoding cleans " ' " up to "'".
/// </summary>
[TestFixture]
public sealed class BertTokenizerDifferencesTests
{
    private TempDirectory directory = null!;
    private string vocabulary = null!;

    [OneTimeSetUp]
    public void WriteVocabulary()
    {
        directory = new TempDirectory();
        vocabulary = ForeignTokenizers.WriteBertVocabulary(directory.Path);
    }

    [OneTimeTearDown]
    public void Delete() => directory.Dispose();

    private static string[] Tokens(Tokenizer tokenizer, string text) => [.. tokenizer.EncodeToTokens(text, out _).Select(t => t.Value)];

    private (string[] Ours, string[] Bert) Both(string text, bool removeNonSpacingMarks = true) =>
        (Tokens(OurWordPiece.Create(vocabulary), text), Tokens(ForeignTokenizers.Bert(vocabulary, removeNonSpacingMarks), text));

    [Test]
    public void BertTokenizer_drops_the_ASCII_symbols_HuggingFace_keeps_as_punctuation()
    {
        var (ours, bert) = Both("a $ b + c < a = b > c ^ a ` b | c ~ a");
        Assert.That(ours, Is.EqualTo(new[] { "a", "$", "b", "+", "c", "<", "a", "=", "b", ">", "c", "^", "a", "`", "b", "|", "c", "~", "a" }));
        Assert.That(bert, Is.EqualTo(new[] { "a", "b", "c", "a", "b", "c", "a", "b", "c", "a" }));
    }

    [Test]
    public void BertTokenizer_deletes_tabs_and_line_breaks_instead_of_splitting_there()
    {
        var (ours, bert) = Both("a\tb\nc");
        Assert.That(ours, Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(bert, Is.EqualTo(new[] { "a", "##b", "##c" }));
    }

    [Test]
    public void BertTokenizer_keeps_a_zero_width_space_which_splits_the_word()
    {
        var (ours, bert) = Both("hello\u200Bworld");
        Assert.That(ours, Is.EqualTo(new[] { "hello", "##world" }));
        Assert.That(bert, Is.EqualTo(new[] { "hello", "world" }));
    }

    [Test]
    public void BertTokenizer_leaves_accents_in_by_default()
    {
        var (ours, bertDefault) = Both("Caf\u00E9", removeNonSpacingMarks: false);
        Assert.That(ours, Is.EqualTo(new[] { "cafe" }));
        Assert.That(bertDefault, Is.EqualTo(new[] { "[UNK]" }));
        Assert.That(Both("Caf\u00E9").Bert, Is.EqualTo(new[] { "cafe" }), "RemoveNonSpacingMarks = true strips them");
    }

    [Test]
    public void BertTokenizer_decodes_the_dogs_with_a_space_after_the_apostrophe()
    {
        var ours = OurWordPiece.Create(vocabulary);
        var bert = ForeignTokenizers.Bert(vocabulary);
        var ids = ours.EncodeToIds("the dog's");
        Assert.That(bert.EncodeToIds("the dog's", addSpecialTokens: false), Is.EqualTo(ids), "both split it into the, dog, ', s");
        Assert.That(ours.Decode(ids), Is.EqualTo("the dog's"));
        Assert.That(bert.Decode(ids), Is.EqualTo("the dog' s"));
    }
}

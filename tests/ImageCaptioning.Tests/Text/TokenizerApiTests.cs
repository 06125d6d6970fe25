using System.Buffers;
using ImageCaptioning.Text;
using Microsoft.ML.Tokenizers;
using NUnit.Framework;
using OurWordPiece = ImageCaptioning.Text.WordPieceTokenizer;

namespace ImageCaptioning.Tests.Text;

/// <summary>Our tokenizers used through Microsoft.ML.Tokenizers' <see cref="Tokenizer"/> API alone.</summary>
[TestFixture]
public sealed class TokenizerApiTests
{
    private static Tokenizer WordPiece() => OurWordPiece.Create(ForeignTokenizers.BertVocabulary);

    [Test]
    public void WordPiece_tokens_carry_offsets_into_the_normalized_text()
    {
        var tokenizer = WordPiece();
        var tokens = tokenizer.EncodeToTokens("The DOG's  zebra", out var normalized);

        Assert.That(normalized, Is.EqualTo("the dog ' s zebra"));
        Assert.That(tokens.Select(t => t.Value), Is.EqualTo(new[] { "the", "dog", "'", "s", "[UNK]" }));
        Assert.That(tokens.Select(t => normalized![t.Offset]), Is.EqualTo(new[] { "the", "dog", "'", "s", "zebra" }));
        Assert.That(tokens.Select(t => t.Id), Is.EqualTo(tokenizer.EncodeToIds("The DOG's  zebra")));
    }

    [Test]
    public void Continuation_pieces_cover_their_part_of_the_word()
    {
        var tokens = WordPiece().EncodeToTokens("helloworld", out var normalized);
        Assert.That(tokens.Select(t => (t.Value, normalized![t.Offset])), Is.EqualTo(new[] { ("hello", "hello"), ("##world", "world") }));
    }

    [Test]
    public void Word_tokens_carry_offsets_into_the_text_as_given()
    {
        Tokenizer tokenizer = WordTokenizer.Train(["startseq a dog runs endseq"]);
        var tokens = tokenizer.EncodeToTokens("  a zebra\truns", out var normalized);
        Assert.That(normalized, Is.Null);
        Assert.That(tokens.Select(t => (t.Value, t.Offset.Start.Value, t.Offset.End.Value)),
            Is.EqualTo(new[] { ("a", 2, 3), ("<unk>", 4, 9), ("runs", 10, 14) }));
    }

    [Test]
    public void Token_budgets_count_and_cut_by_tokens()
    {
        var tokenizer = WordPiece();
        const string text = "hello, the dogs";

        Assert.That(tokenizer.CountTokens(text), Is.EqualTo(5), "hello , the dog ##s");
        var ids = tokenizer.EncodeToIds(text, maxTokenCount: 3, out var normalized, out var consumed);
        Assert.That(ids, Is.EqualTo(tokenizer.EncodeToIds(text).Take(3)));
        Assert.That(normalized![..consumed], Is.EqualTo("hello , the"));
        Assert.That(tokenizer.GetIndexByTokenCount(text, 2, out normalized, out var count), Is.EqualTo(7));
        Assert.That((normalized, count), Is.EqualTo(("hello , the dogs", 2)));
        Assert.That(tokenizer.GetIndexByTokenCountFromEnd(text, 2, out normalized, out count), Is.EqualTo(12), "the last two tokens are dog ##s");
        Assert.That(tokenizer.GetIndexByTokenCount(text, 99, out _, out count), Is.EqualTo("hello , the dogs".Length));
        Assert.That(count, Is.EqualTo(5));
    }

    [Test]
    public void Decoding_into_a_span_stops_at_the_last_id_that_fits()
    {
        var tokenizer = WordPiece();
        var ids = tokenizer.EncodeToIds("the dog runs");
        var destination = new char[9];

        Assert.That(tokenizer.Decode(ids, destination, out var consumed, out var written), Is.EqualTo(OperationStatus.DestinationTooSmall));
        Assert.That((consumed, new string(destination, 0, written)), Is.EqualTo((2, "the dog")));
        var enough = new char[20];
        Assert.That(tokenizer.Decode(ids, enough, out consumed, out written), Is.EqualTo(OperationStatus.Done));
        Assert.That((consumed, new string(enough, 0, written)), Is.EqualTo((3, "the dog runs")));
    }

    [Test]
    public void Decode_keeps_special_tokens_as_Microsoft_ML_Tokenizers_and_HuggingFace_do()
    {
        var tokenizer = WordPiece();
        Assert.That(tokenizer.Decode([2, 10, 11, 3, 0]), Is.EqualTo("[CLS] the dog [SEP] [PAD]"));
        Assert.That(((OurWordPiece)tokenizer).Decode([2, 10, 11, 3, 0], skipSpecialTokens: true), Is.EqualTo("the dog"));
    }
}

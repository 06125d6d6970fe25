using ImageCaptioning.Data;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Text;
using Microsoft.ML.Tokenizers;
using NUnit.Framework;
using OurWordPiece = ImageCaptioning.Text.WordPieceTokenizer;

namespace ImageCaptioning.Tests.Text;

[TestFixture]
public sealed class CaptionVocabularyTests
{
    private static readonly string[] TrainingCaptions = ["startseq a dog runs on the grass endseq", "startseq the red ball endseq", "startseq a dog endseq"];

    private TempDirectory directory = null!;
    private BertTokenizer bert = null!;

    [OneTimeSetUp]
    public void CreateTokenizers()
    {
        directory = new TempDirectory();
        bert = ForeignTokenizers.Bert(ForeignTokenizers.WriteBertVocabulary(directory.Path));
    }

    [OneTimeTearDown]
    public void Delete() => directory.Dispose();

    [Test]
    public void A_foreign_tokenizers_ids_map_to_the_training_captions_ids_with_the_marks_added()
    {
        var vocabulary = CaptionVocabulary.Create(bert, TrainingCaptions);

        string[] seen = ["a", "dog", "runs", "on", "the", "grass", "red", "ball"];
        var bertIds = seen.Select(word => bert.EncodeToIds(word, addSpecialTokens: false).Single()).Order().ToArray();
        Assert.That(vocabulary.IsMapped, Is.True);
        Assert.That(vocabulary.TokenizerIds!.Skip(4), Is.EqualTo(bertIds), "the seen ids, ascending, after pad/unk/start/end");
        Assert.That((vocabulary.PadId, vocabulary.UnknownId, vocabulary.StartId, vocabulary.EndId, vocabulary.VocabularySize), Is.EqualTo((0, 1, 2, 3, 4 + seen.Length)));

        var ids = vocabulary.Encode("startseq the dog jumps endseq");
        Assert.That(ids, Has.Count.EqualTo(5));
        Assert.That((ids[0], ids[^1], ids[3]), Is.EqualTo((vocabulary.StartId, vocabulary.EndId, vocabulary.UnknownId)), "jumps never appeared in training");
        Assert.That(vocabulary.TokenizerIds![ids[1]], Is.EqualTo(bert.EncodeToIds("the", addSpecialTokens: false).Single()));
        Assert.That(vocabulary.Decode(ids), Is.EqualTo("the dog <unk>"));
        Assert.That(vocabulary.Encode("the dog"), Is.EqualTo(ids.Take(3).Append(vocabulary.EndId)), "a caption without the cleaner's marks gets them too");
    }

    [Test]
    public void A_byte_level_tiktoken_vocabulary_round_trips_caption_text()
    {
        var tiktoken = ForeignTokenizers.Tiktoken(["a", "dog", "runs", "on", "the", "grass", "red", "ball"]);
        var vocabulary = CaptionVocabulary.Create(tiktoken, TrainingCaptions);

        var ids = vocabulary.Encode("startseq a dog runs on the grass endseq");

        Assert.That(ids, Has.Count.EqualTo(8), "start, one token per word, end");
        Assert.That(vocabulary.Decode(ids), Is.EqualTo("a dog runs on the grass"));
        Assert.That(vocabulary.VocabularySize, Is.LessThan(20), "only the ids the captions use, not the 256 bytes and merges");
    }

    [Test]
    public void Our_tokenizers_keep_their_ids_and_add_missing_marks()
    {
        var word = WordTokenizer.Train(TrainingCaptions);
        var vocabulary = CaptionVocabulary.Create(word);

        Assert.That(vocabulary.IsMapped, Is.False);
        Assert.That(vocabulary.Encode("startseq a dog endseq"), Is.EqualTo(word.EncodeToIds("startseq a dog endseq")));
        Assert.That(vocabulary.Encode("a dog"), Is.EqualTo(word.EncodeToIds("startseq a dog endseq")));
        Assert.That(vocabulary.Decode(word.EncodeToIds("startseq a dog endseq")), Is.EqualTo("a dog"));
        Assert.That(CaptionVocabulary.Create(word, ["ignored"]).VocabularySize, Is.EqualTo(word.VocabularySize));
        var wordPiece = OurWordPiece.Create(ForeignTokenizers.BertVocabulary);
        Assert.That(CaptionVocabulary.Create(wordPiece).Encode("a dog"), Is.EqualTo(new[] { wordPiece.StartId, 5, 11, wordPiece.EndId }));
        Assert.That(() => CaptionVocabulary.Create(bert), Throws.ArgumentException.With.Message.Contains("training captions"));
    }

    [Test]
    public void A_dataset_takes_any_tokenizer_and_a_bundle_saves_and_reloads_its_mapping()
    {
        var task = new TinyCaptionTask();
        var dataset = CaptionDataset.Create(task.Corpus, bert, task.Features, new CaptionDatasetOptions { BatchSize = 8, Shuffle = false });
        var vocabulary = dataset.Vocabulary;
        Assert.That(vocabulary.IsMapped, Is.True);
        using (var batch = dataset[0])
            Assert.That(batch.Tokens[0], Is.EqualTo(vocabulary.StartId));

        torch.manual_seed(3);
        var model = CaptionModel.Create(task.ModelOptions(dropout: 0) with { VocabularySize = vocabulary.VocabularySize, PadId = vocabulary.PadId });
        model.eval();
        using var bundle = new CaptionModelBundle(model, vocabulary, DecodingOptions.Greedy with { MaxLength = 6 });
        var folder = directory.File("mapped-bundle");
        bundle.Save(folder);
        using var scope = torch.NewDisposeScope();
        var features = torch.randn([3, TinyCaptionTask.Dimension]);

        var missing = Assert.Throws<ArgumentException>(() => CaptionModelBundle.Load(folder))!;
        Assert.That(missing.Message, Does.Contain("Microsoft.ML.Tokenizers.BertTokenizer"));
        Assert.Throws<ArgumentException>(() => CaptionModelBundle.Load(folder, tokenizer: ForeignTokenizers.Tiktoken(["a"])));
        using var loaded = CaptionModelBundle.Load(folder, tokenizer: bert);
        Assert.That(loaded.Vocabulary.TokenizerIds, Is.EqualTo(vocabulary.TokenizerIds));
        Assert.That(loaded.Caption(features), Is.EqualTo(bundle.Caption(features)));
    }
}

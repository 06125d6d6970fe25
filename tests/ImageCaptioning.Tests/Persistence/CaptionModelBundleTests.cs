using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Text;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Persistence;

[TestFixture]
public sealed class CaptionModelBundleTests
{
    private static readonly FeatureExtractorDescription Extractor = new("tiny-test-extractor", TinyCaptionTask.Dimension, ImageTransformOptions.Standard256Crop224);

    private static CaptionModelBundle NewBundle(TinyCaptionTask task, CaptionArchitecture architecture = CaptionArchitecture.InitInject, int seed = 11)
    {
        var model = task.Model(seed, dropout: 0.1, architecture);
        // Sharpen the output layer so captions are not near-ties.
        using (var scope = torch.NewDisposeScope())
        {
            var fc = model.state_dict()["fc.weight"];
            using (torch.no_grad()) fc.copy_(fc * 5);
        }
        return new CaptionModelBundle(model, task.Tokenizer, DecodingOptions.Greedy with { MaxLength = 12, Strategy = DecodingStrategy.Beam, BeamWidth = 2 }, Extractor);
    }

    [TestCase(CaptionArchitecture.InitInject)]
    [TestCase(CaptionArchitecture.Merge)]
    public void RoundTripGivesIdenticalLogitsAndCaptions(CaptionArchitecture architecture)
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        var folder = dir.File("bundle");
        using var scope = torch.NewDisposeScope();
        using var original = NewBundle(task, architecture);
        original.Model.eval();
        original.Save(folder);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "config.json", "model.safetensors", "vocab.txt" }));
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.EqualTo(new[] { folder }), "staging folders left behind");

        using var loaded = CaptionModelBundle.Load(folder);
        Assert.That(loaded.Model.training, Is.False);
        Assert.That(((LstmCaptionModel)loaded.Model).Options, Is.EqualTo(((LstmCaptionModel)original.Model).Options));
        Assert.That(loaded.Decoding, Is.EqualTo(original.Decoding));
        Assert.That(loaded.FeatureExtractor!.Name, Is.EqualTo(Extractor.Name));
        Assert.That(loaded.FeatureExtractor.Dimension, Is.EqualTo(Extractor.Dimension));
        Assert.That(loaded.FeatureExtractor.Preprocessing!.Resize, Is.EqualTo(Extractor.Preprocessing!.Resize));
        Assert.That(loaded.FeatureExtractor.Preprocessing.CenterCrop, Is.EqualTo(Extractor.Preprocessing.CenterCrop));
        Assert.That(loaded.FeatureExtractor.Preprocessing.Mean, Is.EqualTo(Extractor.Preprocessing.Mean));
        Assert.That(loaded.FeatureExtractor.Preprocessing.Std, Is.EqualTo(Extractor.Preprocessing.Std));
        var vocabulary = ((WordTokenizer)loaded.Tokenizer).Vocabulary;
        Assert.That(vocabulary, Is.EqualTo(task.Tokenizer.Vocabulary));

        torch.manual_seed(4);
        var features = torch.randn([5, TinyCaptionTask.Dimension]);
        var tokens = torch.randint(1, task.Tokenizer.VocabularySize, [5, 7]);
        using (torch.no_grad())
            Assert.That(((LstmCaptionModel)loaded.Model).forward(features, tokens).ToArray<float>(), Is.EqualTo(((LstmCaptionModel)original.Model).forward(features, tokens).ToArray<float>()));
        var captions = loaded.Caption(features);
        Assert.That(captions, Is.EqualTo(original.Caption(features)));
        Assert.That(loaded.Caption(features, DecodingOptions.Greedy), Is.EqualTo(original.Caption(features, DecodingOptions.Greedy)));
        Assert.That(captions.Any(c => c.Length > 0), Is.True);
    }

    [Test]
    public void WordPieceTokenizerRoundTripsWithItsOptionsAndAddedMarks()
    {
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "dog", "runs", "##s", "run", "on", "grass", "the", "."];
        var tokenizer = WordPieceTokenizer.Create(vocabulary, new WordPieceTokenizerOptions { StartToken = "<start>", EndToken = "<end>" });
        Assert.That(tokenizer.AddedTokenCount, Is.EqualTo(2));
        torch.manual_seed(2);
        var model = CaptionModel.Create(new CaptionModelOptions { VocabularySize = tokenizer.VocabularySize, FeatureDimension = 8, EmbeddingSize = 4, HiddenSize = 6, PadId = tokenizer.PadId });
        using var bundle = new CaptionModelBundle(model, tokenizer);
        using var dir = new TempDirectory();
        bundle.Save(dir.File("wp"));
        Assert.That(File.ReadAllLines(dir.File("wp/vocab.txt")), Is.EqualTo(vocabulary), "vocab.txt holds the file's own entries only");

        using var loaded = CaptionModelBundle.Load(dir.File("wp"));
        var reloaded = (WordPieceTokenizer)loaded.Tokenizer;
        Assert.That(reloaded.Options.StartToken, Is.EqualTo("<start>"));
        Assert.That((reloaded.VocabularySize, reloaded.AddedTokenCount, reloaded.StartId, reloaded.EndId), Is.EqualTo((tokenizer.VocabularySize, 2, tokenizer.StartId, tokenizer.EndId)));
        const string text = "<start> the dogs run on grass . <end>";
        Assert.That(reloaded.EncodeToIds(text), Is.EqualTo(tokenizer.EncodeToIds(text)));
        Assert.That(reloaded.Decode(tokenizer.EncodeToIds(text), skipSpecialTokens: false), Is.EqualTo(tokenizer.Decode(tokenizer.EncodeToIds(text), skipSpecialTokens: false)));
    }

    [Test]
    public void SavingAgainReplacesTheBundleWhole()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        var folder = dir.File("bundle");
        using (var first = NewBundle(task, seed: 1)) first.Save(folder);
        using var second = NewBundle(task, seed: 2);
        second.Save(folder);
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.EqualTo(new[] { folder }));
        using var loaded = CaptionModelBundle.Load(folder);
        var expected = TinyCaptionTask.Weights(second.Model);
        foreach (var (key, values) in TinyCaptionTask.Weights(loaded.Model)) Assert.That(values, Is.EqualTo(expected[key]), key);

        // A folder that is not a bundle is never replaced.
        var other = dir.File("photos");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "keep.txt"), "mine");
        Assert.That(Assert.Throws<IOException>(() => second.Save(other))!.Message, Does.Contain("not a caption model bundle"));
        Assert.That(File.ReadAllText(Path.Combine(other, "keep.txt")), Is.EqualTo("mine"));
    }

    [Test]
    public void LoadReportsTheFileAtFault()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        string Fresh(string name)
        {
            var folder = dir.File(name);
            using var bundle = NewBundle(task);
            bundle.Save(folder);
            return folder;
        }

        Assert.Throws<DirectoryNotFoundException>(() => CaptionModelBundle.Load(dir.File("absent")));
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt" })
        {
            var folder = Fresh("missing-" + file);
            File.Delete(Path.Combine(folder, file));
            var missing = Assert.Throws<FileNotFoundException>(() => CaptionModelBundle.Load(folder));
            Assert.That(missing!.FileName, Is.EqualTo(Path.Combine(folder, file)));
            Assert.That(missing.Message, Does.Contain(file));
        }

        var corrupt = Fresh("corrupt");
        File.WriteAllText(Path.Combine(corrupt, "config.json"), "{ \"format\": 1, \"model\": ");
        Assert.That(Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(corrupt))!.Message, Does.Contain("config.json"));

        // A config describing another shape than the weights: key/shape mismatch reported against model.safetensors.
        var reshaped = Fresh("reshaped");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(reshaped, "config.json")))!;
        config["model"]!["hiddenSize"] = 20;
        File.WriteAllText(Path.Combine(reshaped, "config.json"), config.ToJsonString());
        var mismatch = Assert.Throws<StateDictMismatchException>(() => CaptionModelBundle.Load(reshaped, integrity: FolderIntegrity.AllowEdited));
        Assert.That(mismatch!.Message, Does.Contain("model.safetensors").And.Contain("lstm.weight_hh_l0"));

        var invalid = Fresh("invalid");
        config = JsonNode.Parse(File.ReadAllText(Path.Combine(invalid, "config.json")))!;
        config["model"]!["layers"] = 0;
        File.WriteAllText(Path.Combine(invalid, "config.json"), config.ToJsonString());
        Assert.That(Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(invalid, integrity: FolderIntegrity.AllowEdited))!.Message,
            Does.Contain("config.json").And.Contain("'model.layers'"));

        var longer = Fresh("longer-vocabulary");
        File.AppendAllText(Path.Combine(longer, "vocab.txt"), "zebra\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(longer))!.Message, Does.Contain("vocab.txt"));
    }

    [TestCase("model.safetensors")]
    [TestCase("vocab.txt")]
    public void AFileChangedAfterSavingIsRefusedNamingIt(string file)
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        var folder = dir.File("bundle");
        using (var bundle = NewBundle(task)) bundle.Save(folder);
        var path = Path.Combine(folder, file);
        if (file == "vocab.txt")
        {
            // Two tokens of one length change places: the vocabulary still fits the model, but every caption changes.
            var lines = File.ReadAllLines(path);
            var (a, b) = Enumerable.Range(4, lines.Length - 4).SelectMany(i => Enumerable.Range(i + 1, lines.Length - i - 1), (i, j) => (i, j))
                .First(p => lines[p.i].Length == lines[p.j].Length);
            (lines[a], lines[b]) = (lines[b], lines[a]);
            File.WriteAllText(path, string.Join("\n", lines) + "\n");
        }
        else
        {
            Tamper.FlipTensorBytes(path);
        }

        var error = Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(folder));

        Assert.That(error!.Message, Does.StartWith(path + ": the SHA-256 is").And.Contain("config.json records"));
    }

    [Test]
    public void ABundleWrittenBeforeDigestsWereRecordedLoadsOnlyWhenEditedFoldersAreAllowed()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        var folder = dir.File("bundle");
        using var scope = torch.NewDisposeScope();
        using var original = NewBundle(task);
        original.Model.eval();
        original.Save(folder);
        var configPath = Path.Combine(folder, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        var digests = config["sha256"]!.AsObject();
        Assert.That(digests.Select(d => d.Key), Is.EquivalentTo(new[] { "config.json", "model.safetensors", "vocab.txt" }));
        foreach (var (name, digest) in digests.Where(d => d.Key != "config.json"))
            Assert.That(digest!.GetValue<string>(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, name))))), name);

        // The configuration as the previous version wrote it: the same, without the digests.
        config.Remove("sha256");
        File.WriteAllText(configPath, config.ToJsonString());

        var refused = Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(folder));
        Assert.That(refused!.Message, Does.StartWith($"{configPath}: 'sha256' is missing"));
        using var loaded = CaptionModelBundle.Load(folder, integrity: FolderIntegrity.AllowEdited);
        torch.manual_seed(4);
        var features = torch.randn([5, TinyCaptionTask.Dimension]);
        Assert.That(loaded.Caption(features), Is.EqualTo(original.Caption(features)));
    }

    [Test]
    public void AConfigurationWhoseDigestsLackAFileIsRefused()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        var folder = dir.File("bundle");
        using (var bundle = NewBundle(task)) bundle.Save(folder);
        var configPath = Path.Combine(folder, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["sha256"]!.AsObject().Remove("vocab.txt");
        File.WriteAllText(configPath, config.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => CaptionModelBundle.Load(folder));

        Assert.That(error!.Message, Does.StartWith($"{configPath}: 'sha256' records no digest of vocab.txt; "));
    }

    [Test]
    public void MismatchedPartsAreRejected()
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        var other = WordTokenizer.Train(["startseq a b endseq"]);
        Assert.That(Assert.Throws<ArgumentException>(() => new CaptionModelBundle(model, other))!.ParamName, Is.EqualTo("vocabulary"));
        Assert.That(Assert.Throws<ArgumentException>(() => new CaptionModelBundle(model, task.Tokenizer, null, Extractor with { Dimension = 4096 }))!.ParamName, Is.EqualTo("featureExtractor"));
    }

    /// <summary>Bundles written by the format-1 writer before tokenizers became Microsoft.ML.Tokenizers ones (commit e50094c), with the captions they gave then.</summary>
    [TestCase("bundle-format1-word")]
    [TestCase("bundle-format1-wordpiece")]
    public void BundlesWrittenBeforeTheTokenizerChangeLoadAndCaptionAsTheyDid(string name)
    {
        var fixtures = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures");
        using var loaded = CaptionModelBundle.Load(Path.Combine(fixtures, name), integrity: FolderIntegrity.AllowEdited);
        var features = new float[3 * TinyCaptionTask.Dimension];
        for (var i = 0; i < features.Length; i++) features[i] = (float)Math.Sin(i * 0.37);
        using var scope = torch.NewDisposeScope();

        var captions = loaded.Caption(TensorSpan.Create<float>(features, [3, TinyCaptionTask.Dimension]));

        Assert.That(captions, Is.EqualTo(File.ReadAllLines(Path.Combine(fixtures, name + ".captions.txt"))));
        Assert.That(loaded.Vocabulary.IsMapped, Is.False);
        if (loaded.Tokenizer is WordPieceTokenizer wordPiece)
            Assert.That(wordPiece.EncodeToIds("<start> the dogs run on grass . <end>"),
                Is.EqualTo(File.ReadAllLines(Path.Combine(fixtures, name + ".ids.txt")).Select(int.Parse)));
    }
}

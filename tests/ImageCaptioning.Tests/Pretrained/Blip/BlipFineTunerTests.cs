using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// Fine-tuning a tiny BLIP checkpoint through <see cref="PretrainedFineTuner"/> on a Flickr8k captions.txt: two epochs
/// of Adam steps against the reference's loop over the same batches (the loss BlipForConditionalGeneration computes
/// with labels, text_config's label smoothing 0.1), with the vision model frozen, its last layer trainable or all of
/// it; the saved hub folder reloads with identical logits; a resumed run equals the uninterrupted one; the validation
/// BLEU-4 is NLTK's corpus_bleu of the captioner's own greedy captions; early stopping on BLEU-4.
/// </summary>
[TestFixture]
[Kernels]
public sealed class BlipFineTunerTests
{
    private static readonly string[] Images = ["image0.png", "image1.png", "image2.png", "image3.png"];

    // 8 pairs in batches of 3 (the last one 2): every word is in BlipCheckpoint's vocabulary (café strips to cafe).
    private static readonly (string Image, string Caption)[] TrainCaptions =
    [
        ("image0.png", "a dog running on the grass"), ("image0.png", "a dog on the grass."),
        ("image1.png", "two cats sitting on a red ball"), ("image1.png", "a cat sitting"), ("image1.png", "Café!"),
        ("image2.png", "a man on the grass"), ("image2.png", "a picture of a man"),
        ("image3.png", "a photo of a red ball"),
    ];

    private static readonly (string Image, string Caption)[] ValidationCaptions =
    [
        ("image0.png", "a dog running on the grass"), ("image0.png", "a dog on the grass"), ("image1.png", "two cats sitting on a ball"),
        ("image2.png", "a man on the grass"), ("image3.png", "a photo of a ball"),
    ];

    // One caption per image, memorised by the tiny model within a few dozen steps, so that greedy captions come to share
    // 4-grams with them and validation scores move.
    private static readonly (string Image, string Caption)[] ShortCaptions =
    [
        ("image0.png", "a dog running on the grass"), ("image1.png", "two cats sitting on a red ball"), ("image2.png", "a dog running on the grass"),
        ("image3.png", "two cats sitting on a red ball"),
    ];

    // Fine-tuning that memorises ShortCaptions: the whole model trains, the decaying rate lets the captions settle.
    private static readonly PretrainedFineTuningOptions Memorise = new()
    {
        Training = new CaptionTrainerOptions { Epochs = 30, LearningRate = 0.01, LearningRateDecay = 0.9 },
        Encoder = PretrainedEncoderTraining.All,
    };

    // BLIP's own captioning prompt ("a picture of "), every word of it in BlipCheckpoint's vocabulary.
    private const string Prompt = "a picture of";

    private static readonly CaptionTrainerOptions Adam = new()
    {
        Epochs = 2, LearningRate = 0.01, EncoderLearningRate = 0.004, LearningRateDecay = 0.5, Beta1 = 0.8, Beta2 = 0.95, Epsilon = 1e-4,
    };

    [TestCase(PretrainedEncoderTraining.Frozen)]
    [TestCase(PretrainedEncoderTraining.LastLayers)]
    [TestCase(PretrainedEncoderTraining.All)]
    public void AdamEpochsMatchTheReference(PretrainedEncoderTraining encoder)
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Seed = 4 });
        Assert.That(data.Count, Is.EqualTo(3));
        var spec = checkpoint.File("../fine-tune.json");
        File.WriteAllText(spec, FineTuningParity.AdamSpec(data, Adam, encoder).ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "fine_tune", folder, spec)).RootElement;

        using var captioner = PretrainedCaptioner.Load(folder);
        var weights = Path.Combine(folder, "model.safetensors");
        var trained = FineTuningParity.TrainAndCompare(captioner, data, Adam, encoder, expected, weights);
        using (var original = Safetensors.Load(weights))
            Assert.That(captioner.SaveableState().Keys.Order(), Is.EqualTo(original.Keys.Order()), "the model's tensors are the checkpoint's");
        FineTuningParity.AssertEncoderPart(trained, encoder, "vision_model.", "vision_model.encoder.layers.1.", "vision_model.post_layernorm.",
            "vision_model.embeddings.", "vision_model.encoder.layers.0.");

        // The fine-tuned captioner as a hub folder: the checkpoint's keys (the tied head left out, as save_pretrained
        // does), config.json otherwise the source's, and it loads back with identical logits.
        var saved = checkpoint.File("../saved");
        captioner.Save(saved);
        using (var original = Safetensors.Load(Path.Combine(folder, "model.safetensors")))
        using (var written = Safetensors.Load(Path.Combine(saved, "model.safetensors")))
            Assert.That(written.Keys.Order(), Is.EqualTo(original.Keys.Order()));
        var savedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!.AsObject();
        var sourceConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        Assert.That(JsonNode.DeepEquals(savedConfig, sourceConfig), Is.True, "config.json is the source's (float32 already)");
        Assert.That(File.ReadAllText(Path.Combine(saved, "vocab.txt")), Is.EqualTo(File.ReadAllText(Path.Combine(folder, "vocab.txt"))));
        using var scope = torch.NewDisposeScope();
        var inputs = torch.tensor(new long[] { 44, 5, 8, 20, 44, 26, 9, 27, 44, 22, 10, 11, 44, 5, 43, 7 }, [4, 4]);
        FineTuningParity.AssertReloadsExactly(captioner, saved, Pixels(captioner, folder, Images), inputs);
    }

    [Test]
    public void APromptIsReadButNotLearnt()
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Seed = 4 });
        JsonElement Reference(string name, string? prompt)
        {
            var spec = checkpoint.File($"../{name}.json");
            File.WriteAllText(spec, FineTuningParity.AdamSpec(data, Adam, PretrainedEncoderTraining.Frozen, prompt).ToJsonString());
            return JsonDocument.Parse(PythonReference.Run("blip_reference.py", "fine_tune", folder, spec)).RootElement;
        }
        var expected = Reference("prompt", Prompt);
        var withoutPrompt = Reference("plain", null);
        Assert.That(expected.GetProperty("losses")[0].GetDouble(), Is.Not.EqualTo(withoutPrompt.GetProperty("losses")[0].GetDouble()).Within(1e-3),
            "the prompt changes what the decoder reads");

        using var captioner = PretrainedCaptioner.Load(folder);
        FineTuningParity.TrainAndCompare(captioner, data, Adam, PretrainedEncoderTraining.Frozen, expected, Path.Combine(folder, "model.safetensors"), Prompt);

        // The loss averages over the caption's labels alone: a batch counts as many tokens with the prompt as without.
        using var scope = torch.NewDisposeScope();
        var pixels = Pixels(captioner, folder, ["image0.png", "image1.png"]);
        string[] captions = ["a dog running on the grass", "a cat sitting"];
        Assert.That(captioner.LossAndTokens(pixels, captions, captioner.EncodePrompt(Prompt)).Tokens, Is.EqualTo(captioner.LossAndTokens(pixels, captions).Tokens));
    }

    [Test]
    public void ValidationCaptionsFollowThePromptAndAreScoredWithoutIt()
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", ShortCaptions, new PretrainedCaptionDataOptions { BatchSize = 1, Seed = 2 });
        var validation = Data(folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        using var captioner = PretrainedCaptioner.Load(folder, new PretrainedCaptionerOptions { BatchSize = 3 });
        TrainingResult result;
        using (var tuner = new PretrainedFineTuner(captioner, Memorise with { Training = Memorise.Training with { ValidationBleu = true }, Prompt = Prompt }))
            result = tuner.Train(data, validation);

        var captions = captioner.Caption([.. Images.Select(i => Path.Combine(folder, i))], new PretrainedGenerationOptions { NumBeams = 1 }, Prompt);
        TestContext.Out.WriteLine($"captions after the prompt: {string.Join(" | ", captions.Select(c => c.Text))}");
        Assert.That(captions.Select(c => c.Text), Has.All.StartWith(Prompt + " "), "captions continue the prompt");
        var scored = captions.Select(c => c.Text[(Prompt.Length + 1)..]).ToArray();
        Assert.That(scored, Is.EquivalentTo(ShortCaptions.Select(c => c.Caption).Distinct().Concat(ShortCaptions.Select(c => c.Caption).Distinct())),
            "after the prompt, the memorised captions");
        CaptionEvaluationResult Score(IReadOnlyList<string> texts) =>
            CaptionMetrics.Evaluate(Images.Select((image, i) => (image, texts[i], (IReadOnlyList<string>)[.. ValidationCaptions.Where(c => c.Image == image).Select(c => c.Caption)])));
        var scores = Score(scored);
        Assert.That(result.History[^1].ValidationBleu4, Is.EqualTo(scores.Bleu.Bleu4).Within(1e-12), "validation BLEU-4 scores the captions without the prompt");
        Assert.That(result.History[^1].ValidationCiderD, Is.EqualTo(scores.CiderD).Within(1e-12));
        var withPrompt = Score([.. captions.Select(c => c.Text)]);
        Assert.That(withPrompt.Bleu.Bleu4, Is.Not.EqualTo(scores.Bleu.Bleu4).Within(1e-6), "the prompt's words would change the score");
    }

    [Test]
    public void AResumedRunEqualsTheUninterruptedOne()
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Seed = 11 });
        var validation = Data(folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        PretrainedFineTuningOptions Options(string directory) => new()
        {
            Training = Adam with { Epochs = 3, LearningRate = 0.05, CheckpointDirectory = checkpoint.File($"../{directory}") },
            Encoder = PretrainedEncoderTraining.LastLayers,
            EarlyStoppingMetric = PretrainedValidationMetric.Bleu4,
        };

        FineTuningParity.AssertResumeEqualsUninterrupted(() => PretrainedCaptioner.Load(folder), data, validation, Options,
            options => options with { EarlyStoppingMetric = PretrainedValidationMetric.Loss }, "Pretrained.EarlyStoppingMetric");
    }

    [Test]
    public void ValidationBleuIsNltksCorpusBleuOfTheGreedyCaptions()
    {
        PythonReference.Require("torch", "numpy", "PIL", "nltk");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", ShortCaptions, new PretrainedCaptionDataOptions { BatchSize = 1, Seed = 2 });
        var validation = Data(folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        // Captioning in batches of 3 as the validation pass does (images 0-2, then 3), so the rows batch alike.
        using var captioner = PretrainedCaptioner.Load(folder, new PretrainedCaptionerOptions { BatchSize = 3 });
        TrainingResult result;
        using (var tuner = new PretrainedFineTuner(captioner, Memorise with { Training = Memorise.Training with { ValidationBleu = true } }))
            result = tuner.Train(data, validation);

        var bleu = result.History.Select(e => e.ValidationBleu4!.Value).ToArray();
        TestContext.Out.WriteLine($"validation BLEU-4: {string.Join(", ", bleu.Select(b => b.ToString("F4", CultureInfo.InvariantCulture)))}; CIDEr-D: {string.Join(", ", result.History.Select(e => e.ValidationCiderD!.Value.ToString("F4", CultureInfo.InvariantCulture)))}");
        // The captioner's own greedy captions of the validation images, each image once, against all of its captions.
        var captions = captioner.Caption([.. Images.Select(i => Path.Combine(folder, i))], new PretrainedGenerationOptions { NumBeams = 1 });
        TestContext.Out.WriteLine($"greedy captions: {string.Join(" | ", captions.Select(c => c.Text))}");
        var tokenizer = EvaluationTokenizer.Default;
        var hypotheses = captions.Select(c => tokenizer.Tokenize(c.Text)).ToArray();
        var references = Images.Select(i => ValidationCaptions.Where(c => c.Image == i).Select(c => tokenizer.Tokenize(c.Caption)).ToArray()).ToArray();
        var input = checkpoint.File("../nltk.json");
        File.WriteAllText(input, JsonSerializer.Serialize(new[] { new { hypotheses, references } }));
        var nltk = JsonDocument.Parse(PythonReference.Run("eval_bleu_nltk.py", input)).RootElement[0].GetProperty("none")[3].GetDouble();
        Assert.That(nltk, Is.GreaterThan(0.1), "the fine-tuned captions share 4-grams with the references: the score is not NLTK's stand-in for 0");
        Assert.That(bleu[^1], Is.EqualTo(nltk).Within(1e-12), "the last epoch's validation BLEU-4 is NLTK's corpus_bleu of the greedy captions");
        var ciderD = CaptionMetrics.Evaluate(Images.Select((image, i) => (image, captions[i].Text, (IReadOnlyList<string>)[.. ValidationCaptions.Where(c => c.Image == image).Select(c => c.Caption)]))).CiderD;
        Assert.That(result.History[^1].ValidationCiderD, Is.EqualTo(ciderD).Within(1e-12), "and its CIDEr-D the scorer's on them");
        Assert.That(bleu.Distinct().Count(), Is.GreaterThan(1), "the score follows the training");
    }

    [Test]
    public void EarlyStoppingOnBleuEndsWhenItStopsImproving()
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var folder = checkpoint.Folder;
        var data = Data(folder, "captions.txt", ShortCaptions, new PretrainedCaptionDataOptions { BatchSize = 1, Seed = 2 });
        var validation = Data(folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        var directory = checkpoint.File("../checkpoints");
        using var captioner = PretrainedCaptioner.Load(folder);
        TrainingResult result;
        using (var tuner = new PretrainedFineTuner(captioner, Memorise with
        {
            Training = Memorise.Training with { Epochs = 60, Patience = 12, CheckpointDirectory = directory },
            EarlyStoppingMetric = PretrainedValidationMetric.Bleu4,
        }))
            result = tuner.Train(data, validation);

        var bleu = result.History.Select(e => e.ValidationBleu4!.Value).ToArray();
        TestContext.Out.WriteLine($"validation BLEU-4: {string.Join(", ", bleu.Select(b => b.ToString("F4", CultureInfo.InvariantCulture)))}; losses: {string.Join(", ", result.History.Select(e => e.ValidationLoss!.Value.ToString("F4", CultureInfo.InvariantCulture)))}");
        Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.EarlyStopped));
        // The captions of the first epochs share no 4-gram with the references (BLEU-4 0, or NLTK's stand-in for it);
        // a patience past them lets the score rise and settle before it stops.
        Assert.That(bleu.Max(), Is.GreaterThan(0.1), "the score rose before training stopped");
        var best = Array.IndexOf(bleu, bleu.Max()) + 1;
        Assert.That(result.BestEpoch, Is.EqualTo(best), "the best epoch is the first with the highest BLEU-4");
        Assert.That(bleu, Has.Length.EqualTo(best + 12), "stopped after 12 epochs without a higher BLEU-4");
        var losses = result.History.Select(e => e.ValidationLoss!.Value).ToArray();
        Assert.That(Array.IndexOf(losses, losses.Min()) + 1 + 12, Is.LessThan(bleu.Length), "the validation loss would have stopped it earlier: the stop follows BLEU-4");
        using (var bestState = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "best.json"))))
            Assert.That(bestState.RootElement.GetProperty("epoch").GetInt32(), Is.EqualTo(best), "best.json is the epoch after the best one finished");
        Assert.That(File.Exists(Path.Combine(directory, "last.json")), Is.True);
    }

    [Test]
    public void BadSettingsFailNamingWhatIsWrong()
    {
        PythonReference.Require("torch", "numpy", "PIL");
        using var checkpoint = Checkpoint();
        var data = Data(checkpoint.Folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3 });
        using var captioner = PretrainedCaptioner.Load(checkpoint.Folder);
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Training = new CaptionTrainerOptions { ValidationBleu = true } }))
            Assert.That(() => tuner.Train(data), Throws.ArgumentException.With.Message.Contains("ValidationBleu"));
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { EarlyStoppingMetric = PretrainedValidationMetric.CiderD }))
            Assert.That(() => tuner.Train(data), Throws.ArgumentException.With.Message.Contains("EarlyStoppingMetric CiderD"));
        Assert.That(() => new PretrainedFineTuningOptions { EarlyStoppingMetric = (PretrainedValidationMetric)7 }, Throws.TypeOf<ArgumentOutOfRangeException>());
        using (var smoothing = BlipCheckpoint.Create(configure: spec => spec["text_extra"] = new JsonObject { ["label_smoothing"] = 1.5 }))
            Assert.That(() => PretrainedCaptioner.Load(smoothing.Folder), Throws.TypeOf<InvalidDataException>()
                .With.Message.Contains("config.json").And.Message.Contains("text_config.label_smoothing").And.Message.Contains("within 0 and 1"));
        var tooLong = Data(checkpoint.Folder, "long.txt", [("image0.png", "a dog"), ("image2.png", string.Join(' ', Enumerable.Repeat("a man on the grass", 8)))], new PretrainedCaptionDataOptions());
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions()))
            Assert.That(() => tuner.Train(tooLong), Throws.ArgumentException.With.Message.Contains("image 'image2.png'").And.Message.Contains("41 label tokens").And.Message.Contains("40 positions"));
        var fits = Data(checkpoint.Folder, "fits.txt", [("image2.png", string.Join(' ', Enumerable.Repeat("a man on the grass", 7)) + " a man")], new PretrainedCaptionDataOptions());
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Prompt = Prompt }))
            Assert.That(() => tuner.Train(fits), Throws.ArgumentException.With.Message.Contains("41 label tokens with the prompt's"), "the prompt's tokens count");
        Assert.That(() => new PretrainedFineTuningOptions { Prompt = "  " }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Prompt"));
        Assert.That(() => new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Prompt = "\u0001" }),
            Throws.ArgumentException.With.Message.Contains("Prompt").And.Message.Contains("has no tokens"));
    }

    // The tiny checkpoint with four images and BLIP's original label smoothing, so that the smoothing is exercised.
    private static BlipCheckpoint Checkpoint() => BlipCheckpoint.Create(configure: spec =>
    {
        spec["images"] = new JsonArray(new JsonArray(40, 30), new JsonArray(32, 32), new JsonArray(25, 50), new JsonArray(64, 48));
        spec["text_extra"] = new JsonObject { ["label_smoothing"] = 0.1 };
    });

    private static Tensor Pixels(PretrainedCaptioner captioner, string folder, IEnumerable<string> images)
    {
        var decoded = images.Select(name => ImageCaptioning.Vision.ImageDecoder.Decode(Path.Combine(folder, name))).ToList();
        try
        {
            return captioner.Preprocess(decoded);
        }
        finally
        {
            foreach (var image in decoded) image.Dispose();
        }
    }

    private static PretrainedCaptionData Data(string folder, string name, (string Image, string Caption)[] captions, PretrainedCaptionDataOptions options)
    {
        var path = Path.Combine(folder, "..", name);
        File.WriteAllLines(path, ["image,caption", .. captions.Select(c => $"{c.Image},\"{c.Caption.Replace("\"", "\"\"", StringComparison.Ordinal)}\"")]);
        return PretrainedCaptionData.Create(CaptionReader.ReadFlickr8kCsv(path), folder, options);
    }
}

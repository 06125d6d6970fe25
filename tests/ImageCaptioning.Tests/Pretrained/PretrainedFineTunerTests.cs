using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Data;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// Fine-tuning a tiny ViT-GPT-2 checkpoint through <see cref="PretrainedFineTuner"/> on a Flickr8k captions.txt:
/// two epochs of Adam steps (shuffled batches, an uneven last batch, learning-rate decay, the encoder's own rate)
/// against the reference's Adam loop over the same batches, with the encoder frozen, its last layer trainable or all of
/// it; the saved hub folder reloads with identical logits; a resumed run equals the uninterrupted one; early stopping
/// on the validation loss; bad captions files and settings fail naming what is wrong.
/// </summary>
[TestFixture]
[Kernels]
public sealed class PretrainedFineTunerTests
{
    // 4 images, 2 captions each (one image with 3, one with 1): 8 pairs, batches of 3 (the last one 2).
    private static readonly (string Image, string Caption)[] TrainCaptions =
    [
        ("image0.png", "a dog is running through the grass"), ("image0.png", "a brown dog runs"),
        ("image1.png", "two people on a bench!"), ("image1.png", "café crème"), ("image1.png", "people sit"),
        ("image2.png", "a man riding a horse on the beach"), ("image2.png", "a horse"),
        ("image3.png", "a"),
    ];

    private static readonly (string Image, string Caption)[] ValidationCaptions =
    [
        ("image0.png", "the cat sleeps on the red sofa"), ("image1.png", "children playing football in the park"),
        ("image2.png", "a woman holding an umbrella in the rain"), ("image3.png", "it's they're we've"),
    ];

    // Epsilon 1e-4: attention's key biases (ViT's key.bias, the key third of GPT-2's c_attn biases) have a gradient of
    // exactly zero in exact arithmetic (softmax ignores a shift shared by every key), so both sides' gradients there are
    // rounding noise, which Adam with a tiny epsilon would blow up to steps of the full learning rate in random directions.
    private static readonly CaptionTrainerOptions Adam = new()
    {
        Epochs = 2, LearningRate = 0.01, EncoderLearningRate = 0.004, LearningRateDecay = 0.5, Beta1 = 0.8, Beta2 = 0.95, Epsilon = 1e-4,
    };

    [TestCase(PretrainedEncoderTraining.Frozen)]
    [TestCase(PretrainedEncoderTraining.LastLayers)]
    [TestCase(PretrainedEncoderTraining.All)]
    public void AdamEpochsMatchTheReference(PretrainedEncoderTraining encoder)
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "fine-tune", VitGpt2Fixture.Spec(["safetensors"]));
        var data = Data(root, folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Seed = 4 });
        Assert.That(data.Count, Is.EqualTo(3));
        // The reference reads the batches the data gives, epoch by epoch: the shuffle is the data's (a Sequence's) own.
        var expected = VitGpt2Fixture.Run(root, folder, new JsonObject
        {
            ["images"] = new JsonArray([.. VitGpt2Fixture.Images.Select(i => (JsonNode)i)]),
            ["fine_tune"] = FineTuningParity.AdamSpec(data, Adam, encoder),
        }).GetProperty("fine_tune");

        using var captioner = PretrainedCaptioner.Load(folder);
        var trained = FineTuningParity.TrainAndCompare(captioner, data, Adam, encoder, expected, Path.Combine(folder, "model.safetensors"));
        FineTuningParity.AssertEncoderPart(trained, encoder, "encoder.", "encoder.encoder.layer.1.", "encoder.layernorm.", "encoder.embeddings.", "encoder.encoder.layer.0.");

        // The fine-tuned captioner as a hub folder: the checkpoint's keys, and it loads back with identical logits.
        var saved = root.File("saved");
        captioner.Save(saved);
        using (var original = Safetensors.Load(Path.Combine(folder, "model.safetensors")))
        using (var written = Safetensors.Load(Path.Combine(saved, "model.safetensors")))
            Assert.That(written.Keys.Order(), Is.EqualTo(original.Keys.Where(k => !k.StartsWith("encoder.pooler.", StringComparison.Ordinal)).Order()));
        var savedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!.AsObject();
        var sourceConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        Assert.That(savedConfig["torch_dtype"]?.GetValue<string>(), Is.EqualTo("float32"), "config.json names the saved weights' dtype");
        savedConfig.Remove("torch_dtype");
        sourceConfig.Remove("torch_dtype");
        Assert.That(JsonNode.DeepEquals(savedConfig, sourceConfig), Is.True, "config.json is otherwise the source's");
        using var scope = torch.NewDisposeScope();
        var images = VitGpt2Fixture.Images.Select(name => ImageCaptioning.Vision.ImageDecoder.Decode(Path.Combine(folder, name))).ToList();
        var pixels = captioner.Preprocess(images);
        foreach (var image in images) image.Dispose();
        var inputs = torch.tensor(new long[] { 406, 5, 100, 406, 7, 9, 406, 1, 2, 406, 3, 4 }, [4, 3]);
        FineTuningParity.AssertReloadsExactly(captioner, saved, pixels, inputs);
    }

    [Test]
    public void AResumedRunEqualsTheUninterruptedOne()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "resume", VitGpt2Fixture.Spec(["safetensors"]));
        var data = Data(root, folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Seed = 11 });
        var validation = Data(root, folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        PretrainedFineTuningOptions Options(string directory) => new()
        {
            Training = Adam with { Epochs = 3, CheckpointDirectory = root.File(directory) },
            Encoder = PretrainedEncoderTraining.LastLayers,
        };

        FineTuningParity.AssertResumeEqualsUninterrupted(() => PretrainedCaptioner.Load(folder), data, validation, Options,
            options => options with { Encoder = PretrainedEncoderTraining.All }, "Pretrained.Encoder");
    }

    [Test]
    public void EarlyStoppingEndsWhenTheValidationLossStopsImproving()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "early", VitGpt2Fixture.Spec(["safetensors"]));
        var data = Data(root, folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 4, Seed = 2 });
        // Validation captions unlike the training ones: fitting the training captions soon makes them less likely.
        var validation = Data(root, folder, "validation.txt", ValidationCaptions, new PretrainedCaptionDataOptions { BatchSize = 3, Shuffle = false });
        var directory = root.File("checkpoints");
        using var captioner = PretrainedCaptioner.Load(folder);
        TrainingResult result;
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions
        {
            Training = new CaptionTrainerOptions { Epochs = 12, LearningRate = 0.03, Patience = 2, CheckpointDirectory = directory },
        }))
            result = tuner.Train(data, validation);

        var losses = result.History.Select(e => e.ValidationLoss!.Value).ToArray();
        TestContext.Out.WriteLine($"validation losses: {string.Join(", ", losses.Select(l => l.ToString("F4", CultureInfo.InvariantCulture)))}");
        Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.EarlyStopped));
        Assert.That(losses, Has.Length.LessThan(12));
        var best = Array.IndexOf(losses, losses.Min()) + 1;
        Assert.That(result.BestEpoch, Is.EqualTo(best));
        Assert.That(losses.Length, Is.EqualTo(best + 2), "stopped after two epochs without a better validation loss");
        // The last epoch's validation loss is the captioner's own loss of the validation captions (one batch of all).
        using (var scope = torch.NewDisposeScope())
        {
            var images = ValidationCaptions.Select(c => ImageCaptioning.Vision.ImageDecoder.Decode(Path.Combine(folder, c.Image))).ToList();
            var pixels = captioner.Preprocess(images);
            foreach (var image in images) image.Dispose();
            using var noGrad = torch.no_grad();
            Assert.That(losses[^1], Is.EqualTo(captioner.Loss(pixels, [.. ValidationCaptions.Select(c => c.Caption)]).item<float>()).Within(1e-5));
        }
        Assert.That(File.Exists(Path.Combine(directory, "best.json")) && File.Exists(Path.Combine(directory, "last.json")), Is.True);
    }

    [Test]
    public void BadCaptionFilesAndSettingsFailNamingWhatIsWrong()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "bad", VitGpt2Fixture.Spec(["safetensors"]));

        var missing = WriteCaptions(root, "missing.txt", [("image0.png", "a dog"), ("nope.png", "a cat"), ("image1.png", "a bench")]);
        var corpus = CaptionReader.ReadFlickr8kCsv(missing);
        Assert.That(() => PretrainedCaptionData.Create(corpus, folder),
            Throws.TypeOf<FileNotFoundException>().With.Message.Contains("'nope.png'").And.Message.Contains(Path.Combine(folder, "nope.png")));
        var skipped = PretrainedCaptionData.Create(corpus, folder, new PretrainedCaptionDataOptions { MissingImages = MissingFeaturePolicy.Skip });
        Assert.That((skipped.SkippedImages, skipped.PairCount), Is.EqualTo((1, 2)), "a counted skip");

        var empty = WriteCaptions(root, "empty.txt", [("image0.png", "a dog"), ("image1.png", "a bench"), ("image1.png", "  ")]);
        Assert.That(() => PretrainedCaptionData.Create(CaptionReader.ReadFlickr8kCsv(empty), folder),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("caption 2 of image 'image1.png' is empty"));

        using var captioner = PretrainedCaptioner.Load(folder);
        var data = Data(root, folder, "captions.txt", TrainCaptions, new PretrainedCaptionDataOptions { BatchSize = 3 });
        Assert.That(() => new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Encoder = PretrainedEncoderTraining.LastLayers, EncoderLayers = 3 }),
            Throws.ArgumentException.With.Message.Contains("EncoderLayers 3 exceeds the encoder's 2 layers"));
        Assert.That(() => new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Training = new CaptionTrainerOptions { Mode = LossMode.Prefix } }),
            Throws.ArgumentException.With.Message.Contains("Mode"));
        Assert.That(() => new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Prompt = "a picture of" }),
            Throws.ArgumentException.With.Message.Contains("Prompt").And.Message.Contains("takes no text prompt"));
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Training = new CaptionTrainerOptions { Patience = 1 } }))
            Assert.That(() => tuner.Train(data), Throws.ArgumentException.With.Message.Contains("Patience"));
        var tooLong = Data(root, folder, "long.txt", [("image0.png", "a dog"), ("image2.png", string.Join(' ', Enumerable.Repeat("horse beach", 30)))], new PretrainedCaptionDataOptions());
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions()))
            Assert.That(() => tuner.Train(tooLong), Throws.ArgumentException.With.Message.Contains("image 'image2.png'").And.Message.Contains("40 positions"));
    }

    private static PretrainedCaptionData Data(TempDirectory root, string folder, string name, (string Image, string Caption)[] captions, PretrainedCaptionDataOptions options) =>
        PretrainedCaptionData.Create(CaptionReader.ReadFlickr8kCsv(WriteCaptions(root, name, captions)), folder, options);

    // Flickr8k's captions.txt: a CSV with the header image,caption.
    private static string WriteCaptions(TempDirectory root, string name, (string Image, string Caption)[] captions)
    {
        var path = root.File(name);
        File.WriteAllLines(path, ["image,caption", .. captions.Select(c => $"{c.Image},\"{c.Caption.Replace("\"", "\"\"", StringComparison.Ordinal)}\"")]);
        return path;
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// Fine-tuning a ViT-GPT-2 checkpoint: one SGD step on transformers' VisionEncoderDecoderModel loss (labels padded with
/// -100, decoder inputs shifted right) against the reference, every parameter at 1e-4, with the encoder trainable or
/// frozen; and the saved folder loads back (here and as a Hugging Face layout: the same keys in model.safetensors).
/// </summary>
[TestFixture]
[Kernels]
public sealed class VitGpt2FineTuningTests
{
    private static readonly string[] Captions = ["a dog is running through the grass", "two people on a bench!", "café crème", "a"];

    [TestCase(true)]
    [TestCase(false)]
    public void OneStepMatchesTheReference(bool trainEncoder)
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "fine-tune", VitGpt2Fixture.Spec(["safetensors"]));
        const double rate = 0.5;
        var expected = VitGpt2Fixture.Run(root, folder, new JsonObject
        {
            ["images"] = new JsonArray([.. VitGpt2Fixture.Images.Select(i => (JsonNode)i)]),
            ["train"] = new JsonObject { ["captions"] = new JsonArray([.. Captions.Select(c => (JsonNode)c)]), ["lr"] = rate, ["train_encoder"] = trainEncoder },
        }).GetProperty("train");

        using var captioner = PretrainedCaptioner.Load(folder);
        var images = VitGpt2Fixture.Images.Select(name => ImageCaptioning.Vision.ImageDecoder.Decode(Path.Combine(folder, name))).ToList();
        using var scope = torch.NewDisposeScope();
        var pixels = captioner.Preprocess(images);
        foreach (var image in images) image.Dispose();
        var parameters = captioner.TrainableParameters(trainEncoder);
        using var optimizer = torch.optim.SGD(parameters, rate);
        optimizer.zero_grad();
        var loss = captioner.Loss(pixels, Captions);
        Assert.That(loss.item<float>(), Is.EqualTo(expected.GetProperty("loss").GetDouble()).Within(1e-5), "loss");
        loss.backward();
        optimizer.step();

        var updated = expected.GetProperty("parameters");
        var state = captioner.SaveableState();
        var trained = updated.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.That(trained.Any(k => k.StartsWith("encoder.", StringComparison.Ordinal)), Is.EqualTo(trainEncoder));
        var worst = VitGpt2Fixture.AssertParameters(state, updated, 1e-4, "one step");
        TestContext.Out.WriteLine($"train encoder {trainEncoder}: max |C# - PyTorch| parameters after one step {worst.ToString("E2", CultureInfo.InvariantCulture)}");

        if (!trainEncoder)
        {
            using var original = Safetensors.Load(Path.Combine(folder, "model.safetensors"));
            foreach (var (key, tensor) in state.Where(e => e.Key.StartsWith("encoder.", StringComparison.Ordinal)))
                Assert.That(tensor.eq(original[key]).all().item<bool>(), Is.True, $"frozen {key} did not move");
        }

        // The saved folder: the checkpoint's keys (the tied head left out, as transformers saves it), and it loads back.
        var saved = root.File("saved");
        captioner.Save(saved);
        using (var original = Safetensors.Load(Path.Combine(folder, "model.safetensors")))
        using (var written = Safetensors.Load(Path.Combine(saved, "model.safetensors")))
            Assert.That(written.Keys.Order(), Is.EqualTo(original.Keys.Where(k => !k.StartsWith("encoder.pooler.", StringComparison.Ordinal)).Order()));
        using var reloaded = PretrainedCaptioner.Load(saved);
        var inputs = torch.tensor(new long[] { 406, 5, 100, 406, 7, 9 }, [2, 3]);
        using var before = captioner.Logits(pixels.narrow(0, 0, 2), inputs);
        using var after = reloaded.Logits(pixels.narrow(0, 0, 2), inputs);
        Assert.That(after.eq(before).all().item<bool>(), Is.True, "the saved folder reloads the fine-tuned weights exactly");
    }
}

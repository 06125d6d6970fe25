using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained.Blip;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// One fine-tuning step of a loaded BLIP checkpoint against the reference: the loss as BlipForConditionalGeneration
/// computes it with labels (the decoder's next-token cross entropy, padding labelled -100), its gradients through the
/// whole model or with the vision model frozen, and the parameters after an SGD step within 1e-4.
/// </summary>
[TestFixture]
[Kernels]
public sealed class BlipFineTuningTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void TrainingStepMatchesTheReference(bool freezeVision)
    {
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create();
        var parts = checkpoint.Load();
        using var model = (BlipForConditionalGeneration)parts.Model;
        torch.manual_seed(9);
        var pixels = torch.randn(3, 3, 32, 32);
        var ids = torch.tensor(new long[] { 44, 5, 6, 7, 8, 3, 44, 9, 3, 0, 0, 0, 44, 26, 27, 10, 11, 3 }, [3, 6]);
        var mask = ids.ne(0).to(ScalarType.Int64);
        const double LearningRate = 0.5;
        File.WriteAllText(checkpoint.File("../train.json"), new JsonObject
        {
            ["pixel_values"] = TensorJson.Encode(pixels), ["input_ids"] = TensorJson.Encode(ids), ["attention_mask"] = TensorJson.Encode(mask),
            ["lr"] = LearningRate, ["freeze_vision"] = freezeVision,
        }.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "train", checkpoint.Folder, checkpoint.File("../train.json"))).RootElement;

        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        model.train();
        foreach (var parameter in model.EncoderParameters()) parameter.requires_grad = !freezeVision;
        using var optimizer = torch.optim.SGD(model.parameters().Where(p => p.requires_grad), LearningRate);
        optimizer.zero_grad();
        // The seam's loss: the caption after [DEC] as labels, read behind the start token; padding labelled -100.
        var labels = ids.narrow(1, 1, 5).masked_fill(mask.narrow(1, 1, 5).eq(0), -100);
        var loss = model.Loss(pixels, labels, padId: 0, startId: 44);
        loss.backward();
        optimizer.step();

        Assert.That(loss.ToDouble(), Is.EqualTo(expected.GetProperty("loss").GetDouble()).Within(1e-5), "loss");
        var state = expected.GetProperty("state");
        var largest = 0.0;
        var moved = 0;
        foreach (var (key, value) in model.state_dict())
        {
            TensorJson.AssertClose(state.GetProperty(key), value, key, rtol: 1e-4, atol: 1e-4);
            var expectedValues = state.GetProperty(key).GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var actual = value.data<float>().ToArray();
            largest = Math.Max(largest, expectedValues.Select((e, i) => Math.Abs(e - actual[i])).Max());
            var changed = value.sub(before[key]).abs().max().ToDouble() > 0;
            if (key.StartsWith("vision_model.", StringComparison.Ordinal) && freezeVision) Assert.That(changed, Is.False, $"{key} is frozen");
            if (changed) moved++;
        }
        Assert.That(moved, Is.GreaterThan(freezeVision ? 20 : 40), "parameters the step moved");
        TestContext.Out.WriteLine($"freeze vision {freezeVision}: loss {loss.ToDouble().ToString("F6", CultureInfo.InvariantCulture)}, {moved} tensors moved, max |C# - PyTorch| parameter after the step: {largest.ToString("E2", CultureInfo.InvariantCulture)}");
    }
}

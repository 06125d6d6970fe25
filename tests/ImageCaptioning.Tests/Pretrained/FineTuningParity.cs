using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// What the fine-tuner's parity tests of every architecture share: the batches the data gives, as the reference's Adam
/// loop reads them, and the comparison of a fine-tuned captioner with the loop's losses and parameters.
/// </summary>
internal static class FineTuningParity
{
    /// <summary>
    /// The reference's fine-tuning spec: each epoch's batches of [image, caption] rows in the data's own (seeded,
    /// per-epoch) order, the Adam settings of <paramref name="adam"/>, the encoder's training and the prompt, if any.
    /// </summary>
    public static JsonObject AdamSpec(PretrainedCaptionData data, CaptionTrainerOptions adam, PretrainedEncoderTraining encoder, string? prompt = null)
    {
        var epochs = new JsonArray();
        for (var epoch = 0; epoch < adam.Epochs; epoch++)
        {
            var batches = new JsonArray();
            for (var index = 0; index < data.Count; index++)
            {
                using var batch = data.BatchOf(epoch, index);
                batches.Add(new JsonArray([.. batch.ImageIds.Zip(batch.Captions, (image, caption) => (JsonNode)new JsonArray(image, caption))]));
            }
            epochs.Add(batches);
        }
        Assert.That(epochs[0]!.ToJsonString(), Is.Not.EqualTo(epochs[^1]!.ToJsonString()), "each epoch has its own order");
        return new JsonObject
        {
            ["epochs"] = epochs, ["lr"] = adam.LearningRate, ["encoder_lr"] = adam.EncoderLearningRate, ["decay"] = adam.LearningRateDecay,
            ["beta1"] = adam.Beta1, ["beta2"] = adam.Beta2, ["eps"] = adam.Epsilon,
            ["encoder"] = encoder switch { PretrainedEncoderTraining.LastLayers => JsonValue.Create(1), _ => JsonValue.Create(encoder.ToString()) },
            ["prompt"] = prompt,
        };
    }

    /// <summary>
    /// Fine-tunes <paramref name="captioner"/> on <paramref name="data"/> (the last encoder layer for
    /// <see cref="PretrainedEncoderTraining.LastLayers"/>) and asserts every step's loss within 1e-5 and every trained
    /// parameter within 1e-4 of the reference's (<paramref name="expected"/>: <c>losses</c>, <c>parameters</c>), and
    /// every other tensor bit-identical to <paramref name="weightsFile"/>'s while the trained ones moved. Returns the
    /// names of the trained tensors. A <paramref name="prompt"/> is the fine-tuner's <see cref="PretrainedFineTuningOptions.Prompt"/>.
    /// </summary>
    public static HashSet<string> TrainAndCompare(PretrainedCaptioner captioner, PretrainedCaptionData data, CaptionTrainerOptions adam,
        PretrainedEncoderTraining encoder, JsonElement expected, string weightsFile, string? prompt = null)
    {
        var losses = new StepLosses();
        using (var tuner = new PretrainedFineTuner(captioner, new PretrainedFineTuningOptions { Training = adam, Encoder = encoder, EncoderLayers = 1, Prompt = prompt }, progress: losses))
        {
            var result = tuner.Train(data);
            Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.Completed));
            Assert.That(result.GlobalStep, Is.EqualTo(adam.Epochs * data.Count));
        }
        var reference = expected.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(losses.Values, Is.EqualTo(reference).Within(1e-5), "the loss of each step");

        var state = captioner.SaveableState();
        var updated = expected.GetProperty("parameters");
        var trained = updated.EnumerateObject().Select(p => p.Name).ToHashSet();
        var steps = losses.Values.Count;
        var worst = VitGpt2Fixture.AssertParameters(state, updated, 1e-4, $"{steps} Adam steps");
        TestContext.Out.WriteLine($"encoder {encoder}: {trained.Count} trained tensors, max |C# - PyTorch| after {steps} Adam steps {worst.ToString("E2", CultureInfo.InvariantCulture)}");

        // What did not train is the checkpoint's, bit for bit; what trained moved.
        using var original = Safetensors.Load(weightsFile);
        foreach (var (key, tensor) in state)
        {
            var same = tensor.eq(original[key]).all().item<bool>();
            Assert.That(same, Is.EqualTo(!trained.Contains(key)), trained.Contains(key) ? $"{key} trained" : $"{key} is frozen");
        }
        return trained;
    }

    /// <summary>Asserts that the folder <paramref name="captioner"/> saved to <paramref name="saved"/> reloads with identical logits of <paramref name="inputs"/>.</summary>
    public static void AssertReloadsExactly(PretrainedCaptioner captioner, string saved, Tensor pixels, Tensor inputs)
    {
        using var reloaded = PretrainedCaptioner.Load(saved);
        using var before = captioner.Logits(pixels, inputs);
        using var after = reloaded.Logits(pixels, inputs);
        Assert.That(after.eq(before).all().item<bool>(), Is.True, "the saved folder reloads the fine-tuned weights exactly");
    }

    /// <summary>
    /// Asserts the encoder parameters that trained under <paramref name="encoder"/>: none when frozen; only the last
    /// layer's (<paramref name="lastLayer"/>) and the final layer norm's (<paramref name="finalNorm"/>, which must be
    /// among them) for the last layer; the embeddings' and the first layer's among them for all.
    /// </summary>
    public static void AssertEncoderPart(IEnumerable<string> trained, PretrainedEncoderTraining encoder, string prefix, string lastLayer, string finalNorm, string embeddings, string firstLayer)
    {
        var encoderTrained = trained.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        switch (encoder)
        {
            case PretrainedEncoderTraining.Frozen:
                Assert.That(encoderTrained, Is.Empty);
                break;
            case PretrainedEncoderTraining.LastLayers:
                Assert.That(encoderTrained, Has.All.StartsWith(lastLayer).Or.StartsWith(finalNorm));
                Assert.That(encoderTrained, Has.Some.StartsWith(finalNorm));
                break;
            default:
                Assert.That(encoderTrained, Has.Some.StartsWith(embeddings).And.Some.StartsWith(firstLayer));
                break;
        }
    }

    /// <summary>
    /// Runs 3 epochs of 3 steps uninterrupted, then the same cancelled after step 4 and resumed by fresh captioners
    /// (<paramref name="load"/>, as a new process would): <paramref name="changed"/> settings are refused naming
    /// <paramref name="changedKey"/>, and the resumed run takes the 5 steps left and ends with the uninterrupted run's
    /// weights bit for bit, its epochs' metrics and its best epoch. <paramref name="options"/> gives a run's options for
    /// its checkpoint directory name.
    /// </summary>
    public static void AssertResumeEqualsUninterrupted(Func<PretrainedCaptioner> load, PretrainedCaptionData data, PretrainedCaptionData validation,
        Func<string, PretrainedFineTuningOptions> options, Func<PretrainedFineTuningOptions, PretrainedFineTuningOptions> changed, string changedKey)
    {
        using var whole = load();
        TrainingResult uninterrupted;
        using (var tuner = new PretrainedFineTuner(whole, options("whole")))
            uninterrupted = tuner.Train(data, validation);
        Assert.That(uninterrupted.GlobalStep, Is.EqualTo(9));

        // Stopped after step 4 (inside the second epoch), then a fresh process: a new captioner from the folder.
        using var cancellation = new CancellationTokenSource();
        using (var first = load())
        using (var tuner = new PretrainedFineTuner(first, options("parts"), progress: new CancelAtStep(4, cancellation)))
        {
            var stopped = tuner.Train(data, validation, cancellation.Token);
            Assert.That(stopped.StopReason, Is.EqualTo(TrainingStopReason.Cancelled));
            Assert.That(stopped.GlobalStep, Is.EqualTo(4));
        }
        using (var other = load())
        using (var tuner = new PretrainedFineTuner(other, changed(options("parts"))))
            Assert.That(() => tuner.Train(data, validation), Throws.TypeOf<CheckpointMismatchException>().With.Message.Contains(changedKey), $"another {changedKey} is refused");
        using var resumed = load();
        TrainingResult rest;
        var steps = new StepLosses();
        using (var tuner = new PretrainedFineTuner(resumed, options("parts"), progress: steps))
            rest = tuner.Train(data, validation);
        Assert.That(rest.StopReason, Is.EqualTo(TrainingStopReason.Completed));
        Assert.That(steps.Values, Has.Count.EqualTo(5), "the resumed run takes only the 5 steps left");
        Assert.That(rest.GlobalStep, Is.EqualTo(9));

        var expected = whole.SaveableState();
        foreach (var (key, tensor) in resumed.SaveableState())
            Assert.That(tensor.eq(expected[key]).all().item<bool>(), Is.True, $"{key}: resumed equals uninterrupted bit for bit");
        Assert.That(rest.History.Select(e => (e.TrainLoss, e.ValidationLoss, e.ValidationBleu4, e.ValidationCiderD)),
            Is.EqualTo(uninterrupted.History.Select(e => (e.TrainLoss, e.ValidationLoss, e.ValidationBleu4, e.ValidationCiderD))));
        Assert.That(rest.BestEpoch, Is.EqualTo(uninterrupted.BestEpoch));
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// A ViT-GPT-2 checkpoint folder loaded by the library against the plain-torch reference written from transformers'
/// modeling code, on the same tiny random checkpoint (pytorch_model.bin through the restricted unpickler, and
/// model.safetensors): the processor's pixel values, the teacher-forced logits at 1e-5 of the same forward in float64 (2e-5 of PyTorch's float32), the greedy and beam token ids
/// exactly (with their log-probabilities), and the captions' text.
/// </summary>
[TestFixture]
[Kernels]
public sealed class VitGpt2ParityTests
{
    private static readonly long[][] DecoderInputs = [[406, 5, 100, 7, 33], [406, 300, 2, 9, 406], [406, 1, 1, 1, 1], [406, 250, 150, 50, 10]];

    [TestCase("bin")]
    [TestCase("safetensors")]
    public void MatchesTheReference(string format)
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var folder = VitGpt2Fixture.Make(root, "vit-gpt2-" + format, VitGpt2Fixture.Spec([format]));
        var expected = VitGpt2Fixture.Run(root, folder, new JsonObject
        {
            ["images"] = new JsonArray([.. VitGpt2Fixture.Images.Select(i => (JsonNode)i)]),
            ["decoder_input_ids"] = new JsonArray([.. DecoderInputs.Select(row => (JsonNode)new JsonArray([.. row.Select(v => (JsonNode)v)]))]),
        });

        using var captioner = PretrainedCaptioner.Load(folder);
        Assert.That(captioner.Architecture, Is.EqualTo("VisionEncoderDecoderModel"));
        Assert.That(captioner.LoadReport.UnknownKeys, Is.Empty, "every key of the file is known");
        if (format == "bin")
            Assert.That(captioner.LoadReport.IgnoredKeys, Has.Member("decoder.transformer.h.0.attn.bias").And.Member("decoder.transformer.h.1.crossattention.masked_bias")
                .And.Member("encoder.pooler.dense.weight").And.Member("decoder.lm_head.weight"));
        var defaults = expected.GetProperty("defaults");
        Assert.That(captioner.Generation.MaxLength, Is.EqualTo(defaults.GetProperty("max_length").GetInt32()));
        Assert.That(captioner.Generation.NumBeams, Is.EqualTo(3), "num_beams from config.json");
        Assert.That(captioner.Generation.DecoderStartId, Is.EqualTo(defaults.GetProperty("start").GetInt32()));
        Assert.That(captioner.Generation.EndIds, Is.EqualTo(defaults.GetProperty("eos").EnumerateArray().Select(e => e.GetInt32())));
        Assert.That(captioner.Generation.PadId, Is.EqualTo(defaults.GetProperty("pad").GetInt32()));

        using var scope = torch.NewDisposeScope();
        var images = VitGpt2Fixture.Images.Select(name => ImageCaptioning.Vision.ImageDecoder.Decode(Path.Combine(folder, name))).ToList();
        try
        {
            var pixels = captioner.Preprocess(images);
            var pixelDifference = MaxDifference(expected.GetProperty("pixel_values"), pixels);
            Assert.That(pixelDifference, Is.LessThanOrEqualTo(1e-6), "pixel values against PIL's resize and numpy's rescale/normalize");

            var logits = captioner.Logits(pixels, torch.tensor(DecoderInputs.SelectMany(r => r).ToArray(), [DecoderInputs.Length, DecoderInputs[0].Length]));
            var logitDifference = MaxDifference(expected.GetProperty("logits_float64"), logits);
            Assert.That(logitDifference, Is.LessThanOrEqualTo(1e-5), "teacher-forced logits against the same forward in float64");
            var float32Difference = MaxDifference(expected.GetProperty("logits"), logits);
            Assert.That(float32Difference, Is.LessThanOrEqualTo(2e-5), "teacher-forced logits against PyTorch's float32 forward");

            var greedy = captioner.Generate(pixels, new PretrainedGenerationOptions { NumBeams = 1 });
            CheckSequences(expected.GetProperty("greedy"), greedy, "greedy");
            var beam = captioner.Generate(pixels);
            CheckSequences(expected.GetProperty("beam"), beam, "beam 3");
            Assert.That(expected.GetProperty("greedy").EnumerateArray().Select(g => g.GetProperty("finished").GetBoolean()), Has.Member(true).And.Member(false),
                "the checkpoint makes some captions end and others run to max_length");

            var texts = captioner.Caption([.. VitGpt2Fixture.Images.Select(name => Path.Combine(folder, name))]);
            Assert.That(texts.Select(t => t.Text), Is.EqualTo(expected.GetProperty("beam_texts").EnumerateArray().Select(t => t.GetString())),
                "captions of the files, decoded as the reference tokenizer decodes");
            TestContext.Out.WriteLine($"{format}: max |C# - PyTorch| pixel values {pixelDifference.ToString("E2", CultureInfo.InvariantCulture)}, logits {logitDifference.ToString("E2", CultureInfo.InvariantCulture)} (float64), {float32Difference.ToString("E2", CultureInfo.InvariantCulture)} (float32)");
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    [TestCase(TransformersBeamSearch.Vectorized)]
    [TestCase(TransformersBeamSearch.Scorer)]
    public void GenerationConfigDefaultsAndBatchedBeamsMatch(TransformersBeamSearch search)
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var generation = new JsonObject { ["max_length"] = 16, ["num_beams"] = 4, ["decoder_start_token_id"] = 406, ["eos_token_id"] = 406, ["pad_token_id"] = 406, ["length_penalty"] = 0.6 };
        var folder = VitGpt2Fixture.Make(root, "vit-gpt2-generation", VitGpt2Fixture.Spec(["safetensors"], seed: 2, eosScale: 1.6, generation: generation,
            encoderWidth: 32, size: new JsonObject { ["height"] = 32, ["width"] = 32 }));
        var expected = VitGpt2Fixture.Run(root, folder, new JsonObject
        {
            ["images"] = new JsonArray([.. VitGpt2Fixture.Images.Select(i => (JsonNode)i)]),
            ["beam_impl"] = search == TransformersBeamSearch.Scorer ? "scorer" : "vectorized",
        });

        using var captioner = PretrainedCaptioner.Load(folder, new PretrainedCaptionerOptions { BatchSize = 3 });
        var options = new PretrainedGenerationOptions { BeamSearch = search };
        Assert.That(captioner.Generation, Is.EqualTo(captioner.Generation with { MaxLength = 16, NumBeams = 4, LengthPenalty = 0.6 }), "generation_config.json wins");
        var paths = VitGpt2Fixture.Images.Select(name => Path.Combine(folder, name)).ToArray();
        // Batches of 3: the fourth image is captioned alone, and must come out as in the reference's batch of 4.
        CheckSequences(expected.GetProperty("beam"), captioner.Caption(paths, options), $"{search} beam 4 from generation_config.json");
        CheckSequences(expected.GetProperty("greedy"), captioner.Caption(paths, new PretrainedGenerationOptions { NumBeams = 1 }), "greedy");
        Assert.That(expected.GetProperty("beam").EnumerateArray().Select(g => g.GetProperty("finished").GetBoolean()), Has.Member(true).And.Member(false),
            "some beam captions end, others run to max_length");

        var attempts = captioner.TryCaption([paths[0], Path.Combine(folder, "missing.png"), paths[1]], options);
        Assert.That(attempts.Select(a => a.Succeeded), Is.EqualTo(new[] { true, false, true }));
        Assert.That(attempts[1].Error!.Message, Does.Contain("missing.png"));
        Assert.That(attempts[0].LogProbability, Is.EqualTo(expected.GetProperty("beam")[0].GetProperty("log_probability").GetDouble()).Within(1e-4), "confidence score");
    }

    private static void CheckSequences(JsonElement expected, IReadOnlyList<PretrainedCaption> actual, string what)
    {
        var rows = expected.EnumerateArray().ToArray();
        Assert.That(actual, Has.Count.EqualTo(rows.Length), what);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.That(actual[i].TokenIds, Is.EqualTo(rows[i].GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())), $"{what}: image {i}'s token ids");
            Assert.That(actual[i].Finished, Is.EqualTo(rows[i].GetProperty("finished").GetBoolean()), $"{what}: image {i} finished");
            Assert.That(actual[i].LogProbability, Is.EqualTo(rows[i].GetProperty("log_probability").GetDouble()).Within(1e-4), $"{what}: image {i}'s log-probability");
            if (rows[i].TryGetProperty("score", out var score))
                Assert.That(actual[i].Score, Is.EqualTo(score.GetDouble()).Within(1e-4), $"{what}: image {i}'s sequence score");
        }
    }

    private static double MaxDifference(JsonElement expected, Tensor actual)
    {
        var values = actual.contiguous().data<float>().ToArray();
        var reference = expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(values, Has.Length.EqualTo(reference.Length), "element count");
        return reference.Select((e, i) => Math.Abs(e - values[i])).DefaultIfEmpty(0).Max();
    }
}

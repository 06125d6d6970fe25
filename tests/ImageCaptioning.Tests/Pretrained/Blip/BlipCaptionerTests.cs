using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// A BLIP folder end to end through <see cref="PretrainedCaptioner"/>: PNG files decoded, preprocessed, captioned in
/// batches with greedy and beam search, with and without a prompt, against the reference run on PIL's pixel values
/// of the same files and decoded by the reference tokenizer.
/// </summary>
[TestFixture]
[Kernels]
public sealed class BlipCaptionerTests
{
    [Test]
    public void CaptionsImageFilesAsTheReference()
    {
        PythonReference.Require("torch", "PIL", "numpy");
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create(seed: 5);
        using var dir = new TempDirectory();
        var random = new Random(3);
        var paths = new List<string>();
        var pixels = new List<Tensor>();
        foreach (var (width, height) in new[] { (45, 30), (32, 32), (20, 70) })
        {
            var bytes = new byte[width * height * 3];
            random.NextBytes(bytes);
            var raw = dir.File($"{width}x{height}.rgb");
            File.WriteAllBytes(raw, bytes);
            var png = dir.File($"{width}x{height}.png");
            var processed = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "preprocess", raw, width.ToString(CultureInfo.InvariantCulture),
                height.ToString(CultureInfo.InvariantCulture), checkpoint.File("preprocessor_config.json"), png)).RootElement;
            paths.Add(png);
            pixels.Add(TensorJson.Decode(processed.GetProperty("pixel_values")));
        }

        using var captioner = PretrainedCaptioner.Load(checkpoint.Folder, new PretrainedCaptionerOptions { BatchSize = 2 });
        foreach (var prompt in new[] { null, "a photo of" })
        {
            var spec = new JsonObject { ["pixel_values"] = TensorJson.Encode(torch.cat(pixels, 0)), ["max_length"] = 20, ["beams"] = new JsonArray(3) };
            var promptIds = prompt is null ? [] : captioner.Tokenizer is ImageCaptioning.Text.WordPieceTokenizer w ? w.EncodeToIds(prompt).ToArray() : [];
            if (prompt is not null) spec["prompt_ids"] = TensorJson.Encode(torch.tensor(new long[] { 2 }.Concat(promptIds.Select(i => (long)i)).Append(3).ToArray(), [1, promptIds.Length + 2]));
            var expected = checkpoint.Run(spec);
            foreach (var (key, beams) in new[] { ("greedy", 1), ("beam3", 3) })
            {
                var rows = expected.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
                var decode = new JsonObject { ["texts"] = new JsonArray(), ["decode"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonArray([.. r.Select(i => (JsonNode)i)]))]) };
                File.WriteAllText(dir.File("decode.json"), decode.ToJsonString());
                var texts = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "tokenize", checkpoint.Folder, dir.File("decode.json"))).RootElement
                    .GetProperty("decoded").EnumerateArray().Select(e => e.GetString()).ToArray();
                var logProbabilities = expected.GetProperty($"{key}_logprob").EnumerateArray().Select(e => e.GetDouble()).ToArray();

                var captions = captioner.Caption(paths, new PretrainedGenerationOptions { MaxLength = 20, NumBeams = beams }, prompt);
                for (var i = 0; i < paths.Count; i++)
                {
                    Assert.That(captions[i].Text, Is.EqualTo(texts[i]), $"{key}, prompt '{prompt}', {Path.GetFileName(paths[i])}");
                    Assert.That(captions[i].LogProbability, Is.EqualTo(logProbabilities[i]).Within(1e-4), $"{key}, prompt '{prompt}': log-probability");
                    if (prompt is not null) Assert.That(captions[i].Text, Does.StartWith(prompt));
                }
                TestContext.Out.WriteLine($"{key}, prompt '{prompt}': {string.Join(" | ", captions.Select(c => $"\"{c.Text}\" ({c.LogProbability.ToString("F3", CultureInfo.InvariantCulture)})"))}");
            }
        }
    }
}

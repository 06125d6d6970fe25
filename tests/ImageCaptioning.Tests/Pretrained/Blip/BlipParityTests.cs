using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Pretrained.Blip;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// BlipForConditionalGeneration against the python3-torch reference written from Hugging Face's modeling_blip.py and
/// modeling_blip_text.py on the same tiny checkpoint: the image embeddings and teacher-forced logits within 1e-5,
/// greedy and beam token ids identical (with and without a prompt), their log-probabilities and beam scores.
/// The reference reads pytorch_model.bin; the library reads model.safetensors (the folder's preferred file), so the
/// two files are checked to hold the same model too.
/// </summary>
[TestFixture]
[Kernels]
public sealed class BlipParityTests
{
    private static JsonObject Pixels(Tensor pixels) => TensorJson.Encode(pixels);

    // blip-image-captioning-large's vision model is wider than its text decoder (1024 and 768): the cross-attention's
    // keys and values read encoder_hidden_size.
    [TestCase(16, TestName = "ImageEmbeddingsAndLogitsMatchTheReference(base-like)")]
    [TestCase(24, TestName = "ImageEmbeddingsAndLogitsMatchTheReference(large-like, wider vision)")]
    public void ImageEmbeddingsAndLogitsMatchTheReference(int visionHidden)
    {
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create(configure: spec => spec["vision"]!["hidden"] = visionHidden);
        var parts = checkpoint.Load();
        using var model = (BlipForConditionalGeneration)parts.Model;
        Assert.That(parts.Report.SourceFile, Does.EndWith("model.safetensors"));
        Assert.That(parts.Report.UnknownKeys, Is.Empty);

        torch.manual_seed(5);
        var pixels = torch.randn(3, 3, 32, 32);
        // Right-padded captions of different lengths with their attention mask, as a fine-tuning batch holds them.
        var ids = torch.tensor(new long[] { 44, 5, 6, 7, 8, 3, 44, 9, 3, 0, 0, 0, 44, 26, 27, 10, 11, 3 }, [3, 6]);
        var mask = ids.ne(0).to(ScalarType.Int64);
        var expected = checkpoint.Run(new JsonObject
        {
            ["pixel_values"] = Pixels(pixels), ["input_ids"] = TensorJson.Encode(ids), ["attention_mask"] = TensorJson.Encode(mask), ["max_length"] = 2,
        });

        using var noGrad = torch.no_grad();
        var differences = new List<(string What, double Max)>
        {
            ("image embeddings", Modeling.ReferenceComparison.Compare(expected.GetProperty("image_embeds"), model.EncodeImages(pixels), "image embeddings")),
            ("logits", Modeling.ReferenceComparison.Compare(expected.GetProperty("logits"), model.Logits(pixels, ids, mask), "logits")),
        };
        Modeling.ReferenceComparison.Report($"BLIP, vision width {visionHidden}: ", differences);

        // Right padding changes nothing at the real positions: the causal mask already hides later pads.
        var unmasked = model.Logits(pixels, ids);
        var real = mask.to(ScalarType.Bool).unsqueeze(2);
        Assert.That(unmasked.masked_select(real).sub(model.Logits(pixels, ids, mask).masked_select(real)).abs().max().ToDouble(), Is.LessThan(1e-5));
    }

    [Test]
    public void PytorchModelBinLoadsTheSameModel()
    {
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create();
        var fromSafetensors = checkpoint.Load();
        System.IO.File.Delete(checkpoint.File("model.safetensors"));
        var fromBin = checkpoint.Load();
        using var a = fromSafetensors.Model;
        using var b = fromBin.Model;
        Assert.That(fromBin.Report.SourceFile, Does.EndWith("pytorch_model.bin"));
        Assert.That(fromBin.Report.IgnoredKeys, Is.EquivalentTo(new[]
        {
            "text_decoder.bert.embeddings.position_ids", "text_decoder.cls.predictions.decoder.weight", "text_decoder.cls.predictions.decoder.bias",
        }), "the persistent position_ids buffer and the tied head copies torch.save kept");
        Assert.That(fromBin.Report.UnknownKeys, Is.Empty);
        foreach (var (key, value) in a.state_dict())
            Assert.That(value.sub(b.state_dict()[key]).abs().max().ToDouble(), Is.Zero, key);
    }

    [Test]
    public void TiedTensorsSavedUnderTheHeadNamesOnlyStillLoad()
    {
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create();
        var path = checkpoint.File("model.safetensors");
        using var reference = checkpoint.Load().Model;
        using (var tensors = Safetensors.Load(path))
        {
            var renamed = tensors.ToDictionary(pair => pair.Key switch
            {
                "text_decoder.bert.embeddings.word_embeddings.weight" => "text_decoder.cls.predictions.decoder.weight",
                "text_decoder.cls.predictions.bias" => "text_decoder.cls.predictions.decoder.bias",
                var key => key,
            }, pair => pair.Value);
            Safetensors.Save(path, renamed);
        }
        var parts = checkpoint.Load();
        using var model = parts.Model;
        Assert.That(parts.Report.UnknownKeys, Is.Empty);
        foreach (var (key, value) in reference.state_dict())
            Assert.That(value.sub(model.state_dict()[key]).abs().max().ToDouble(), Is.Zero, key);
    }

    [TestCase(null, 1.0, false, TransformersBeamSearch.Vectorized, TestName = "GenerationMatchesTheReference(no prompt)")]
    [TestCase("a picture of", 1.0, false, TransformersBeamSearch.Vectorized, TestName = "GenerationMatchesTheReference(prompt)")]
    [TestCase(null, 0.5, true, TransformersBeamSearch.Vectorized, TestName = "GenerationMatchesTheReference(length penalty 0.5, early stopping)")]
    [TestCase("a photo of", 2.0, false, TransformersBeamSearch.Vectorized, TestName = "GenerationMatchesTheReference(prompt, length penalty 2)")]
    [TestCase(null, 2.0, true, TransformersBeamSearch.Vectorized, TestName = "GenerationMatchesTheReference(length penalty 2, early stopping)")]
    [TestCase(null, 1.0, false, TransformersBeamSearch.Scorer, TestName = "GenerationMatchesTheReference(scorer, no prompt)")]
    [TestCase("a picture of", 1.0, false, TransformersBeamSearch.Scorer, TestName = "GenerationMatchesTheReference(scorer, prompt)")]
    [TestCase(null, 0.5, true, TransformersBeamSearch.Scorer, TestName = "GenerationMatchesTheReference(scorer, length penalty 0.5, early stopping)")]
    [TestCase("a photo of", 2.0, false, TransformersBeamSearch.Scorer, TestName = "GenerationMatchesTheReference(scorer, prompt, length penalty 2)")]
    [TestCase(null, 2.0, true, TransformersBeamSearch.Scorer, TestName = "GenerationMatchesTheReference(scorer, length penalty 2, early stopping)")]
    public void GenerationMatchesTheReference(string? prompt, double lengthPenalty, bool earlyStopping, TransformersBeamSearch search)
    {
        using var scope = torch.NewDisposeScope();
        using var checkpoint = BlipCheckpoint.Create();
        var parts = checkpoint.Load();
        using var model = parts.Model;
        torch.manual_seed(7);
        var pixels = torch.randn(4, 3, 32, 32);
        var promptIds = prompt is null ? [] : parts.EncodePrompt!(prompt).ToArray();
        if (prompt == "a picture of") Assert.That(promptIds, Is.EqualTo(new[] { 5, 6, 7 }), "a picture of");
        const int MaxLength = 14;
        int[] beamWidths = [1, 3, 4];
        var spec = new JsonObject
        {
            ["pixel_values"] = Pixels(pixels), ["max_length"] = MaxLength, ["beams"] = new JsonArray([.. beamWidths.Where(b => b > 1).Select(b => (JsonNode)b)]),
            ["length_penalty"] = lengthPenalty, ["early_stopping"] = earlyStopping,
            ["beam_impl"] = search == TransformersBeamSearch.Scorer ? "scorer" : "vectorized",
        };
        // As BLIP's processor gives it: [CLS] prompt [SEP]; generate puts [DEC] first and drops the [SEP].
        if (prompt is not null) spec["prompt_ids"] = TensorJson.Encode(torch.tensor(new long[] { 2 }.Concat(promptIds.Select(i => (long)i)).Append(3).ToArray(), [1, promptIds.Length + 2]));
        var expected = checkpoint.Run(spec);

        var start = parts.Generation.DecoderStartId;
        Assert.That(start, Is.EqualTo(BlipCheckpoint.Vocabulary.Length), "[DEC] follows vocab.txt: text_config.bos_token_id");
        Assert.That(parts.Generation.EndIds, Is.EqualTo(new[] { 3 }), "[SEP]: text_config.sep_token_id, not eos_token_id");
        var endings = new List<string>();
        var greedyTokens = new List<IReadOnlyList<int>>();
        var beamDiffers = false;
        foreach (var beams in beamWidths)
        {
            var settings = parts.Generation with { MaxLength = MaxLength, NumBeams = beams, LengthPenalty = lengthPenalty, EarlyStopping = earlyStopping, BeamSearch = search };
            var generated = PretrainedGenerator.Generate(model, pixels, settings, promptIds);
            var key = beams == 1 ? "greedy" : $"beam{beams}";
            var rows = expected.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
            var logProbabilities = expected.GetProperty(beams == 1 ? "greedy_logprob" : $"{key}_logprob").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (var i = 0; i < rows.Length; i++)
            {
                var prefix = 1 + promptIds.Length;
                Assert.That(rows[i][..prefix], Is.EqualTo(new[] { start }.Concat(promptIds)), "the reference's start and prompt");
                var finished = rows[i][^1] == 3 && rows[i].Length > prefix;
                var tokens = finished ? rows[i][prefix..^1] : rows[i][prefix..];
                Assert.That(generated[i].Tokens, Is.EqualTo(tokens), $"{key}, image {i}: token ids");
                Assert.That(generated[i].Finished, Is.EqualTo(finished), $"{key}, image {i}: finished");
                Assert.That(generated[i].LogProbability, Is.EqualTo(logProbabilities[i]).Within(1e-4), $"{key}, image {i}: log-probability");
                if (beams > 1)
                    Assert.That(generated[i].Score, Is.EqualTo(expected.GetProperty($"{key}_score")[i].GetDouble()).Within(1e-4), $"{key}, image {i}: score");
                endings.Add(finished ? $"end@{tokens.Length}" : "limit");
                if (beams == 1) greedyTokens.Add(tokens);
                else beamDiffers |= !greedyTokens[i].SequenceEqual(tokens);
            }
        }
        TestContext.Out.WriteLine($"{search}: prompt '{prompt}', length penalty {lengthPenalty}, early stopping {earlyStopping}: {string.Join(", ", endings)}; beam differs from greedy: {beamDiffers}");
        Assert.That(endings, Has.Some.StartsWith("end@"), "some caption ends with [SEP] before the limit");
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// TransformerCaptionModel against torch.nn.TransformerDecoderLayer run in the test (same weights and padded batch:
/// logits, loss and every gradient within 1e-5), and its cached decoding against teacher forcing.
/// </summary>
[TestFixture]
[Kernels]
public sealed class TransformerCaptionModelTests
{
    private const int Vocabulary = 30, Cells = 6, Channels = 12, Pad = 0, Start = 1, End = 2;

    private static TransformerCaptionOptions Small(PositionEncoding positions = PositionEncoding.Learned, TransformerActivation activation = TransformerActivation.ReLU) => new()
    {
        VocabularySize = Vocabulary, FeatureDimension = Channels, ModelDimension = 16, Heads = 4, Layers = 2, FeedForwardSize = 24,
        MaxPositions = 12, Positions = positions, Activation = activation, PadId = Pad,
    };

    [TestCase(PositionEncoding.Learned, TransformerActivation.ReLU)]
    [TestCase(PositionEncoding.Sinusoidal, TransformerActivation.GELU)]
    public void MatchesTorchTransformerDecoderLayers(PositionEncoding positions, TransformerActivation activation)
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        using var model = new TransformerCaptionModel(Small(positions, activation));

        // Captions of different lengths, right-padded, so that the causal mask alone must keep the pads out.
        var random = new Random(4);
        int[] lengths = [6, 10, 3, 8];
        var captions = lengths.Select(length => new[] { (long)Start }.Concat(Enumerable.Range(1, length - 1).Select(_ => (long)random.Next(3, Vocabulary))).ToArray()).ToArray();
        var (inputTensor, targetTensor) = TeacherForcingBatch.Shifted(captions, length: 9, Pad);
        var features = torch.randn([lengths.Length, Cells, Channels]);

        var stateJson = new JsonObject();
        foreach (var (key, value) in model.state_dict()) stateJson[key] = TensorJson.Encode(value);
        var spec = new JsonObject
        {
            ["state"] = stateJson, ["pad"] = Pad, ["heads"] = model.Options.Heads,
            ["activation"] = activation == TransformerActivation.GELU ? "gelu" : "relu",
            ["positions"] = positions == PositionEncoding.Learned ? "learned" : "sinusoidal",
            ["features"] = TensorJson.Encode(features), ["inputs"] = TensorJson.Encode(inputTensor), ["targets"] = TensorJson.Encode(targetTensor),
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("model_transformer.py", dir.File("spec.json"))).RootElement;

        var logits = model.forward(features, inputTensor);
        var real = targetTensor.ne(Pad).unsqueeze(2).to_type(ScalarType.Float32);
        var differences = new List<(string What, double Max)> { ("logits", ReferenceComparison.Compare(expected.GetProperty("logits"), logits.mul(real), "logits")) };

        differences.AddRange(ReferenceComparison.LossAndGradients(model, model.Loss(features, inputTensor, targetTensor), expected));
        ReferenceComparison.Report($"{positions}/{activation} ", differences);
    }

    [Test]
    public void StateDictHasPyTorchNames()
    {
        using var model = new TransformerCaptionModel(Small());
        string[] layerModules = ["self_attn.out_proj", "multihead_attn.out_proj", "linear1", "linear2", "norm1", "norm2", "norm3"];
        var layer = layerModules.SelectMany(m => new[] { m + ".weight", m + ".bias" })
            .Concat(["self_attn.in_proj_weight", "self_attn.in_proj_bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias"]);
        var expected = new[] { "feature_proj.weight", "feature_proj.bias", "embedding.weight", "positions.weight", "fc.weight", "fc.bias" }
            .Concat(Enumerable.Range(0, 2).SelectMany(i => layer.Select(name => $"layers.{i}.{name}")));
        Assert.That(model.state_dict().Keys, Is.EquivalentTo(expected));
        Assert.That(model.state_dict()["layers.1.self_attn.in_proj_weight"].shape, Is.EqualTo(new long[] { 48, 16 }), "query, key and value stacked");

        using var sinusoidal = new TransformerCaptionModel(Small(PositionEncoding.Sinusoidal));
        Assert.That(sinusoidal.state_dict().Keys, Has.No.Member("positions.weight"), "fixed positions have no parameters");
    }

    [TestCase(PositionEncoding.Learned)]
    [TestCase(PositionEncoding.Sinusoidal)]
    public void CachedStepsGiveTeacherForcingLogits(PositionEncoding positions)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        using var model = new TransformerCaptionModel(Small(positions));
        // With the pad token unreachable as an end, every caption runs to the length limit.
        using (torch.no_grad()) model.named_parameters().Single(p => p.name == "fc.bias").parameter[Pad].fill_(-1e4);
        var features = torch.randn([3, Cells, Channels]);
        const int MaxLength = 9;

        // Greedy by hand over the cached steps, keeping each step's logits.
        var stepLogits = new List<Tensor>();
        var tokens = torch.full([3], Start, dtype: ScalarType.Int64);
        var fed = new List<Tensor> { tokens };
        // The cache is what is compared: the output layer itself on both sides (the packed decoding projection sums in
        // another order and is compared with the layer in PackedDecodingTests).
        DecodingProjection.Unpacked.Value = true;
        using (torch.no_grad())
        using (var decoder = model.BeginDecoding(features))
        {
            for (var step = 0; step < MaxLength; step++)
            {
                var (logits, attention) = decoder.Step(fed[^1]);
                Assert.That(attention!.sum(1).sub(1).abs().max().ToDouble(), Is.LessThan(1e-5), "the cross-attention weights over the cells");
                stepLogits.Add(logits);
                fed.Add(logits.argmax(1));
            }
        }

        DecodingProjection.Unpacked.Value = false;
        using var noGrad = torch.no_grad();
        var prefix = torch.stack(fed.Take(MaxLength), 1);
        var forced = model.forward(features, prefix);
        var cached = torch.stack(stepLogits, 1);
        var difference = (forced - cached).abs().max().ToDouble();
        TestContext.Out.WriteLine($"{positions}: max |cached step - teacher forcing| logits: {difference.ToString("E2", CultureInfo.InvariantCulture)}");
        Assert.That(difference, Is.LessThan(1e-5));

        var decoded = model.Decode(features, Start, Pad, DecodingOptions.Greedy with { MaxLength = MaxLength });
        var greedy = torch.stack(fed.Skip(1), 1).data<long>().ToArray();
        for (var i = 0; i < decoded.Count; i++)
            Assert.That(decoded[i].Tokens.Select(t => (long)t), Is.EqualTo(greedy.Skip(i * MaxLength).Take(MaxLength)), $"caption {i}: Decode is the greedy path");
    }

    [Test]
    public void BeamWidthOneIsGreedy()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var model = new TransformerCaptionModel(Small());
        var features = torch.randn([4, Cells, Channels]);
        var greedy = model.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = 10 });
        var beam = model.Decode(features, Start, End, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 1, MaxLength = 10 });
        for (var i = 0; i < greedy.Count; i++)
        {
            Assert.That(beam[i].Tokens, Is.EqualTo(greedy[i].Tokens), $"caption {i}: tokens");
            Assert.That(beam[i].Finished, Is.EqualTo(greedy[i].Finished), $"caption {i}: finished");
            Assert.That(beam[i].LogProbability, Is.EqualTo(greedy[i].LogProbability).Within(1e-4), $"caption {i}: log-probability");
        }
        Assert.That(model.training, Is.True, "decoding restores training mode");
    }

    [Test]
    public void BeamsAreScoredAsTeacherForcingScoresThemAndDecodeAsIfAlone()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        using var model = new TransformerCaptionModel(Small(PositionEncoding.Sinusoidal));
        var features = torch.randn([3, Cells, Channels]);
        var options = new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 3, MaxLength = 8 };
        var batched = model.Decode(features, Start, End, options);
        using var noGrad = torch.no_grad();
        for (var i = 0; i < batched.Count; i++)
        {
            var caption = batched[i];
            var alone = model.Decode(features.narrow(0, i, 1), Start, End, options)[0];
            Assert.That(alone.Tokens, Is.EqualTo(caption.Tokens), $"caption {i}: batched beams decode as if alone");

            // A beam's score is what teacher forcing assigns its caption only if each cache row followed its beam.
            var scored = caption.Tokens.Select(t => (long)t).Concat(caption.Finished ? [End] : []).ToArray();
            var prefix = new[] { (long)Start }.Concat(scored.SkipLast(1)).ToArray();
            var logProbabilities = model.forward(features.narrow(0, i, 1), torch.tensor(prefix, [1, prefix.Length]))[0].log_softmax(1);
            var expected = logProbabilities.gather(1, torch.tensor(scored, [scored.Length, 1])).sum().ToDouble();
            Assert.That(caption.LogProbability, Is.EqualTo(expected).Within(1e-4), $"caption {i}: log-probability");
        }
    }

    [Test]
    public void SeededSamplingReproduces()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var model = new TransformerCaptionModel(Small());
        var features = torch.randn([3, Cells, Channels]);
        var options = new DecodingOptions { Strategy = DecodingStrategy.Sample, Seed = 9, TopK = 5, MaxLength = 8 };
        var first = model.Decode(features, Start, End, options);
        var second = model.Decode(features, Start, End, options);
        Assert.That(second.Select(c => c.Tokens), Is.EqualTo(first.Select(c => c.Tokens)));
    }

    [Test]
    public void InvalidSettingsFailWhereTheyAreSet()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TransformerCaptionOptions { Heads = 0 })!.ParamName, Is.EqualTo("Heads"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TransformerCaptionOptions { Layers = 0 })!.ParamName, Is.EqualTo("Layers"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TransformerCaptionOptions { Dropout = 1 })!.ParamName, Is.EqualTo("Dropout"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TransformerCaptionOptions { Positions = (PositionEncoding)7 })!.ParamName, Is.EqualTo("Positions"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerCaptionModel(Small() with { Heads = 3 }))!.ParamName, Is.EqualTo("Heads"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerCaptionModel(Small() with { PadId = Vocabulary }))!.ParamName, Is.EqualTo("PadId"));
        using var model = new TransformerCaptionModel(Small());
        using var grid = torch.zeros(2, Cells, Channels);
        using var flat = torch.zeros(2, Cells * Channels + 1);
        using var tokens = torch.zeros(2, 3, ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => model.forward(flat, tokens), "a row that is no whole number of cells");
        using var tooLong = torch.zeros(2, 13, ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => model.forward(grid, tooLong), "more positions than learned");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(grid, Start, Vocabulary));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(grid, Start, End, DecodingOptions.Greedy with { MaxLength = 13 }));
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// SoftAttentionCaptionModel against the tutorial's DecoderWithAttention run in the test (same weights and padded
/// batch: logits, attention, loss and every gradient within 1e-5), and greedy decoding against teacher forcing.
/// </summary>
[TestFixture]
[Kernels]
public sealed class SoftAttentionCaptionModelTests
{
    private const int Vocabulary = 30, Cells = 6, Channels = 16, Pad = 0, Start = 1;

    private static SoftAttentionOptions Small(double lambda = 1) => new()
    {
        VocabularySize = Vocabulary, FeatureDimension = Channels, EmbeddingSize = 12, HiddenSize = 20, AttentionSize = 10,
        PadId = Pad, AttentionRegularization = lambda,
    };

    [Test]
    public void MatchesTheTutorialDecoder()
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        using var model = new SoftAttentionCaptionModel(Small(lambda: 0.7));

        // Captions of different lengths, right-padded: the reference decodes only the running ones at each step.
        var random = new Random(4);
        int[] lengths = [6, 10, 3, 8];
        var captions = lengths.Select(length => new[] { (long)Start }.Concat(Enumerable.Range(1, length - 1).Select(_ => (long)random.Next(2, Vocabulary))).ToArray()).ToArray();
        var (inputTensor, targetTensor) = TeacherForcingBatch.Shifted(captions, length: 9, Pad);
        var features = torch.randn([lengths.Length, Cells, Channels]);

        var stateJson = new JsonObject();
        foreach (var (key, value) in model.state_dict()) stateJson[key] = TensorJson.Encode(value);
        var spec = new JsonObject
        {
            ["state"] = stateJson, ["pad"] = Pad, ["lambda"] = model.Options.AttentionRegularization,
            ["features"] = TensorJson.Encode(features), ["inputs"] = TensorJson.Encode(inputTensor), ["targets"] = TensorJson.Encode(targetTensor),
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("model_soft_attention.py", dir.File("spec.json"))).RootElement;

        // The reference leaves the positions past each caption's end at zero.
        var (logits, attention) = model.forward(features, inputTensor);
        var real = targetTensor.ne(Pad).unsqueeze(2).to_type(ScalarType.Float32);
        var differences = new List<(string What, double Max)>
        {
            ("logits", ReferenceComparison.Compare(expected.GetProperty("logits"), logits.mul(real), "logits")),
            ("attention", ReferenceComparison.Compare(expected.GetProperty("attention"), attention.mul(real), "attention")),
        };
        var penalty = model.AttentionPenalty(attention, targetTensor.ne(Pad)).ToDouble();
        Assert.That(penalty, Is.EqualTo(expected.GetProperty("penalty").GetDouble()).Within(1e-5), "penalty");
        Assert.That(penalty, Is.GreaterThan(0), "the penalty is part of the compared loss");

        differences.AddRange(ReferenceComparison.LossAndGradients(model, model.Loss(features, inputTensor, targetTensor), expected));
        ReferenceComparison.Report("", differences);
    }

    [Test]
    public void StateDictHasTheTutorialNames()
    {
        using var model = new SoftAttentionCaptionModel(Small());
        string[] modules = ["attention.encoder_att", "attention.decoder_att", "attention.full_att", "init_h", "init_c", "f_beta", "fc"];
        var expected = modules.SelectMany(m => new[] { m + ".weight", m + ".bias" })
            .Concat(["embedding.weight", "decode_step.weight_ih", "decode_step.weight_hh", "decode_step.bias_ih", "decode_step.bias_hh"]);
        Assert.That(model.state_dict().Keys, Is.EquivalentTo(expected));
        Assert.That(model.state_dict()["f_beta.weight"].shape, Is.EqualTo(new long[] { Channels, 20 }), "the gate has one value per channel");
    }

    [Test]
    public void GreedyFollowsTeacherForcingOnItsOwnCaptions()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        using var model = new SoftAttentionCaptionModel(Small());
        var features = torch.randn([3, Cells, Channels]);
        const int End = 2, MaxLength = 7;
        var captions = model.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = MaxLength });
        Assert.That(model.training, Is.True, "greedy restores training mode");
        for (var i = 0; i < captions.Count; i++)
        {
            var caption = captions[i];
            Assert.That(caption.Attention, Has.Count.EqualTo(caption.Tokens.Count), $"caption {i}: one attention row per token");
            var prefix = new[] { (long)Start }.Concat(caption.Tokens.Select(t => (long)t)).ToArray();
            using var noGrad = torch.no_grad();
            var (logits, attention) = model.forward(features.narrow(0, i, 1), torch.tensor(prefix, [1, prefix.Length]));
            var chosen = logits[0].argmax(1).data<long>().ToArray();
            Assert.That(chosen.Take(caption.Tokens.Count), Is.EqualTo(caption.Tokens.Select(t => (long)t)), $"caption {i}: argmax of teacher forcing");
            if (caption.Finished) Assert.That(chosen[^1], Is.EqualTo(End), $"caption {i}: ended where teacher forcing picks the end token");
            else Assert.That(caption.Tokens, Has.Count.EqualTo(MaxLength), $"caption {i}: unfinished only at the length limit");
            var rows = attention[0].data<float>().ToArray();
            for (var step = 0; step < caption.Tokens.Count; step++)
                Assert.That(caption.Attention[step], Is.EqualTo(rows.AsSpan(step * Cells, Cells).ToArray()).Within(1e-5), $"caption {i}: attention at step {step}");
        }
    }

    [Test]
    public void FinishedCaptionsStopAndTheOthersGoOn()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(8);
        using var model = new SoftAttentionCaptionModel(Small());
        // With the pad token unreachable as an end, every caption runs to the length limit.
        using (torch.no_grad()) model.named_parameters().Single(p => p.name == "fc.bias").parameter[Pad].fill_(-1e4);
        var features = torch.randn([4, Cells, Channels]);
        const int MaxLength = 8;
        var full = model.Decode(features, Start, Pad, DecodingOptions.Greedy with { MaxLength = MaxLength });
        Assert.That(full.Select(c => c.Tokens.Count), Is.All.EqualTo(MaxLength));
        Assert.That(full.Select(c => c.Finished), Is.All.False);

        // An end token that ends some captions at different steps while others continue.
        var end = full.SelectMany(c => c.Tokens).Distinct().First(w =>
            full.Select(c => Cut(c.Tokens, w)).Distinct().Count() > 1 && full.Any(c => !c.Tokens.Contains(w)));
        var ended = model.Decode(features, Start, end, DecodingOptions.Greedy with { MaxLength = MaxLength });
        for (var i = 0; i < full.Count; i++)
        {
            var cut = Cut(full[i].Tokens, end);
            Assert.That(ended[i].Tokens, Is.EqualTo(full[i].Tokens.Take(cut)), $"caption {i}: tokens up to the end token");
            Assert.That(ended[i].Finished, Is.EqualTo(cut < MaxLength), $"caption {i}: finished");
            Assert.That(ended[i].Attention, Is.EqualTo(full[i].Attention.Take(cut)).Within(1e-6), $"caption {i}: attention rows");
        }
    }

    [Test]
    public void InvalidSettingsFailWhereTheyAreSet()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SoftAttentionOptions { AttentionSize = 0 })!.ParamName, Is.EqualTo("AttentionSize"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SoftAttentionOptions { AttentionRegularization = -1 })!.ParamName, Is.EqualTo("AttentionRegularization"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SoftAttentionOptions { Dropout = 1 })!.ParamName, Is.EqualTo("Dropout"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new SoftAttentionCaptionModel(new SoftAttentionOptions { VocabularySize = 10, PadId = 10 }))!.ParamName, Is.EqualTo("PadId"));
        using var model = new SoftAttentionCaptionModel(Small());
        using var flat = torch.zeros(2, Cells * Channels + 1);
        Assert.Throws<ArgumentException>(() => model.forward(flat, torch.zeros(2, 3, ScalarType.Int64)), "a row that is no whole number of cells");
        using var grid = torch.zeros(2, Cells, Channels);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(grid, Start, Vocabulary, DecodingOptions.Greedy with { MaxLength = 5 }));
    }

    private static int Cut(IReadOnlyList<int> tokens, int end)
    {
        var index = tokens.ToList().IndexOf(end);
        return index < 0 ? tokens.Count : index;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// CaptionModel and CaptionLoss against the PyTorch recipe run in the test: same initial weights and batches give
/// the same logits and losses (1e-5), and the same parameters after 50 Adam steps (1e-4), in both loss modes.
/// </summary>
[TestFixture]
[Kernels]
public sealed class ModelParityTests
{
    private const int Vocabulary = 50, Features = 64, Pad = 0, Steps = 50;

    [TestCase(CaptionArchitecture.InitInject)]
    [TestCase(CaptionArchitecture.Merge)]
    public void MatchesTheRecipe(CaptionArchitecture architecture)
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var options = new CaptionModelOptions
        {
            Architecture = architecture, VocabularySize = Vocabulary, FeatureDimension = Features, EmbeddingSize = 24, HiddenSize = 32, PadId = Pad,
        };
        using var model = CaptionModel.Create(options);
        var initial = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        // Full-sequence batch: captions of different lengths, right-padded.
        var random = new Random(3);
        int[] lengths = [9, 5, 12, 7];
        var captions = lengths.Select(length => Enumerable.Range(0, length).Select(_ => (long)random.Next(1, Vocabulary)).ToArray()).ToArray();
        var (inputTensor, targetTensor) = TeacherForcingBatch.Shifted(captions, length: 11, Pad);
        var features = torch.randn([lengths.Length, Features]);

        // Prefix batch: the recipe's samples, with a pad next word that must be ignored.
        long[][] prefixes = [[2, 7, 9], [2], [2, 7, 9, 11, 4, 8], [2, 30], [2, 5, 6, 6]];
        long[] nextWords = [11, 7, 3, 0, 17];
        const int P = 8;
        var prefixData = new long[prefixes.Length * P];
        for (var i = 0; i < prefixes.Length; i++) prefixes[i].CopyTo(prefixData, i * P);
        var prefixTensor = torch.tensor(prefixData, [prefixes.Length, P]);
        var nextTensor = torch.tensor(nextWords);
        var prefixFeatures = torch.randn([prefixes.Length, Features]);

        var stateJson = new JsonObject();
        foreach (var (key, value) in initial) stateJson[key] = TensorJson.Encode(value);
        var spec = new JsonObject
        {
            ["architecture"] = architecture.ToString(), ["state"] = stateJson, ["pad"] = Pad, ["steps"] = Steps,
            ["features"] = TensorJson.Encode(features), ["inputs"] = TensorJson.Encode(inputTensor), ["targets"] = TensorJson.Encode(targetTensor),
            ["prefixes"] = TensorJson.Encode(prefixTensor), ["next_words"] = TensorJson.Encode(nextTensor),
            ["prefix_features"] = TensorJson.Encode(prefixFeatures),
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("model_recipe.py", dir.File("spec.json"))).RootElement;

        TensorJson.AssertClose(expected.GetProperty("logits"), model.forward(features, inputTensor), "logits");
        Assert.That(CaptionLoss.FullSequence(model, features, inputTensor, targetTensor).ToDouble(),
            Is.EqualTo(expected.GetProperty("full_loss").GetDouble()).Within(1e-5).Percent, "full-sequence loss");
        Assert.That(CaptionLoss.Prefix(model, prefixFeatures, prefixTensor, nextTensor).ToDouble(),
            Is.EqualTo(expected.GetProperty("prefix_loss").GetDouble()).Within(1e-5).Percent, "prefix loss");

        foreach (var mode in new[] { "full", "prefix" })
        {
            model.load_state_dict(initial);
            using var adam = torch.optim.Adam(model.parameters(), lr: 1e-3);
            var losses = new List<double>();
            for (var step = 0; step < Steps; step++)
            {
                using var stepScope = torch.NewDisposeScope();
                adam.zero_grad();
                var loss = mode == "full"
                    ? CaptionLoss.FullSequence(model, features, inputTensor, targetTensor)
                    : CaptionLoss.Prefix(model, prefixFeatures, prefixTensor, nextTensor);
                loss.backward();
                adam.step();
                losses.Add(loss.ToDouble());
            }
            Assert.That(losses, Is.EqualTo(expected.GetProperty(mode + "_losses").EnumerateArray().Select(e => e.GetDouble())).Within(1e-4).Percent, $"{mode} loss curve");
            foreach (var (key, value) in model.state_dict())
                TensorJson.AssertClose(expected.GetProperty(mode + "_state").GetProperty(key), value, $"{mode} {key} after {Steps} steps", rtol: 1e-4, atol: 1e-5);
        }
    }

    [Test]
    public void FeatureIndexEqualsExpandedFeatures()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var model = CaptionModel.Create(new CaptionModelOptions { VocabularySize = 20, FeatureDimension = 8, EmbeddingSize = 6, HiddenSize = 6 });
        var unique = torch.randn([2, 8]);
        var index = torch.tensor(new long[] { 0, 0, 1, 0 });
        var tokens = torch.randint(1, 20, [4, 5]);
        var viaIndex = model.forward(unique, tokens, index);
        var expanded = model.forward(unique.index_select(0, index), tokens);
        Assert.That(viaIndex.sub(expanded).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void InvalidOptionsNameTheSetting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CaptionModel.Create(new CaptionModelOptions { VocabularySize = 10, PadId = 12 }));
        Assert.That(error!.ParamName, Is.EqualTo("PadId"));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptionModel.Create(new CaptionModelOptions { VocabularySize = 10, Dropout = 1 }));
    }
}

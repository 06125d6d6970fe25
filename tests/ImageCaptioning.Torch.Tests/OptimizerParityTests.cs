using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Modules;
using NUnit.Framework;
using F = ImageCaptioning.Torch.torch.nn.functional;

namespace ImageCaptioning.Torch.Tests;

/// <summary>Training steps with our optimisers end at torch.optim's parameters (1e-5) from the same start.</summary>
[TestFixture]
public sealed class OptimizerParityTests
{
    private const long Vocab = 11, Dim = 6, Hidden = 8;

    private sealed class Tiny : torch.nn.Module<Tensor, Tensor>
    {
        public readonly Embedding embedding;
        public readonly LSTM lstm;
        public readonly Linear fc;

        public Tiny()
        {
            embedding = register_module("embedding", torch.nn.Embedding(Vocab, Dim, padding_idx: 0));
            lstm = register_module("lstm", torch.nn.LSTM(Dim, Hidden, batch_first: true));
            fc = register_module("fc", torch.nn.Linear(Hidden, Vocab));
        }

        public override Tensor forward(Tensor tokens)
        {
            using var scope = torch.NewDisposeScope();
            var (output, _, _) = lstm.forward(embedding.forward(tokens));
            return fc.forward(output).MoveToOuterDisposeScope();
        }
    }

    public static IEnumerable<TestCaseData> Configurations()
    {
        yield return new TestCaseData("adam", new JsonObject { ["lr"] = 1e-2, ["beta1"] = 0.9, ["beta2"] = 0.999, ["eps"] = 1e-8, ["weight_decay"] = 0.0 }, null).SetName("Adam_10_steps");
        yield return new TestCaseData("adam", new JsonObject { ["lr"] = 3e-3, ["beta1"] = 0.8, ["beta2"] = 0.99, ["eps"] = 1e-6, ["weight_decay"] = 0.01 }, 0.5).SetName("Adam_weight_decay_and_clipping");
        yield return new TestCaseData("sgd", new JsonObject { ["lr"] = 0.1, ["momentum"] = 0.9, ["weight_decay"] = 1e-3, ["nesterov"] = true }, null).SetName("SGD_nesterov_momentum");
    }

    [TestCaseSource(nameof(Configurations))]
    public void TenStepsMatchTorchOptim(string optimizerName, JsonObject options, double? clip)
    {
        PythonReference.Require("torch");
        const int Steps = 10;
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(42);
        using var model = new Tiny();
        var tokens = torch.tensor(new long[] { 1, 4, 7, 2, 9, 0, 3, 3, 10, 5, 6, 0 }, [2, 6]);
        var targets = torch.tensor(new long[] { 4, 7, 2, 9, 0, 0, 3, 10, 5, 6, 1, 0 }, [2, 6]);

        var state = new JsonObject();
        foreach (var (key, value) in model.state_dict()) state[key] = TensorJson.Encode(value);
        var spec = new JsonObject
        {
            ["state"] = state, ["tokens"] = TensorJson.Encode(tokens), ["targets"] = TensorJson.Encode(targets),
            ["optimizer"] = optimizerName, ["options"] = options.DeepClone(), ["steps"] = Steps, ["clip"] = clip,
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("torch_optim.py", dir.File("spec.json"))).RootElement;

        var o = options;
        using torch.optim.Optimizer optimizer = optimizerName == "adam"
            ? torch.optim.Adam(model.parameters(), (double)o["lr"]!, (double)o["beta1"]!, (double)o["beta2"]!, (double)o["eps"]!, (double)o["weight_decay"]!)
            : torch.optim.SGD(model.parameters(), (double)o["lr"]!, (double)o["momentum"]!, weight_decay: (double)o["weight_decay"]!, nesterov: (bool)o["nesterov"]!);
        var losses = new List<double>();
        var norms = new List<double>();
        for (var step = 0; step < Steps; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(tokens);
            var loss = F.cross_entropy(logits.reshape(-1, Vocab), targets.reshape(-1), ignore_index: 0);
            loss.backward();
            if (clip is { } maxNorm) norms.Add(torch.nn.utils.clip_grad_norm_(model.parameters(), maxNorm));
            optimizer.step();
            losses.Add(loss.item<double>());
        }

        Assert.That(losses, Is.EqualTo(expected.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble())).Within(1e-5).Percent, "loss curve");
        Assert.That(norms, Is.EqualTo(expected.GetProperty("norms").EnumerateArray().Select(e => e.GetDouble())).Within(1e-4).Percent, "gradient norms");
        foreach (var (key, value) in model.state_dict())
            TensorJson.AssertClose(expected.GetProperty("state").GetProperty(key), value, $"{optimizerName} {key} after {Steps} steps");
    }

    // Contiguous float32 CPU parameters take the fused single-pass Adam; a column-major parameter with the same
    // values takes ATen's elementwise ops, the path torch.optim.Adam runs. They must agree to the last bit.
    [TestCase(0.0)]
    [TestCase(0.01)]
    public void FusedAdamEqualsTheElementwiseOpsBitForBit(double weightDecay)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var values = torch.randn([37, 53]);
        var target = torch.randn([37, 53]);
        var dense = new Parameter(values.clone());
        var strided = new Parameter(values.transpose(0, 1).contiguous().transpose(0, 1));
        Assert.That(strided.is_contiguous(), Is.False, "precondition: the elementwise path");
        using var fused = torch.optim.Adam([dense], lr: 1e-2, beta1: 0.85, beta2: 0.99, eps: 1e-6, weight_decay: weightDecay);
        using var elementwise = torch.optim.Adam([strided], lr: 1e-2, beta1: 0.85, beta2: 0.99, eps: 1e-6, weight_decay: weightDecay);
        for (var step = 0; step < 25; step++)
        {
            foreach (var (parameter, optimizer) in new[] { (dense, fused), (strided, elementwise) })
            {
                using var stepScope = torch.NewDisposeScope();
                optimizer.zero_grad();
                ((parameter - target).pow(2.0) * parameter).sum().backward();
                optimizer.step();
            }
        }

        Assert.That((dense - strided).abs().max().item<float>(), Is.EqualTo(0f), "largest difference after 25 steps");
        Assert.That((dense - values).abs().max().item<float>(), Is.GreaterThan(0.1f), "the parameters moved");
        dense.Dispose();
        strided.Dispose();
    }

    [Test]
    public void AdamStateRoundTripsThroughStateDict()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var first = torch.nn.Linear(3, 2);
        using var second = torch.nn.Linear(3, 2);
        second.load_state_dict(first.state_dict());
        using var optimizerA = torch.optim.Adam(first.parameters());
        using var optimizerB = torch.optim.Adam(second.parameters());
        var x = torch.randn([4, 3]);
        void Step(Linear m, torch.optim.Optimizer opt)
        {
            using var s = torch.NewDisposeScope();
            opt.zero_grad();
            m.forward(x).pow(2).sum().backward();
            opt.step();
        }
        for (var i = 0; i < 3; i++) Step(first, optimizerA);
        second.load_state_dict(first.state_dict());
        var saved = optimizerA.state_dict();
        optimizerB.load_state_dict(saved);
        foreach (var t in saved.Values) t.Dispose();
        Step(first, optimizerA);
        Step(second, optimizerB);
        Assert.That(second.weight.ToArray<float>(), Is.EqualTo(first.weight.ToArray<float>()));
    }
}

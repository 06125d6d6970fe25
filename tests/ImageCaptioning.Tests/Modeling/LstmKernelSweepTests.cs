using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;
using static ImageCaptioning.Tests.Modeling.WrittenOutEquations;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// The Show-and-Tell LSTMs against their equations written out, over hidden and input sizes 1–130 and several lengths,
/// in eval and train mode, recording gradients and not: libtorch picks a different native kernel for each of these
/// (oneDNN's RNN inference primitive was wrong for some sizes on AVX-512 CPUs), so each must give the equations'
/// numbers at 1e-5.
/// </summary>
[TestFixture]
[Kernels]
public sealed class LstmKernelSweepTests
{
    private const int Vocabulary = 11, Features = 6, Batch = 3;
    private const double Tolerance = 1e-5;

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var architecture in new[] { CaptionArchitecture.InitInject, CaptionArchitecture.Merge })
            foreach (var (training, recording) in Modes())
                yield return new TestCaseData(architecture, training, recording)
                    .SetArgDisplayNames(architecture.ToString(), training ? "train" : "eval", recording ? "recording" : "no_grad");
    }

    [TestCaseSource(nameof(Cases))]
    public void HiddenStatesStepsAndGradientsFollowTheEquationsAtEverySize(CaptionArchitecture architecture, bool training, bool recording)
    {
        var failures = new List<string>();
        for (var i = 0; i < Sizes.Length; i++)
        {
            var hidden = Sizes[i];
            foreach (var embedding in new[] { hidden, Sizes[(i * 7 + 3) % Sizes.Length] })
            {
                var layers = i % 5 == 4 ? 2 : 1;
                var length = Lengths[i % Lengths.Length];
                var label = $"hidden {hidden}, input {embedding}, {layers} layer(s), length {length}";
                failures.AddRange(Check(architecture, training, recording, hidden, embedding, layers, length, seed: 100 + i).Select(f => $"{label}: {f}"));
            }
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static IEnumerable<string> Check(CaptionArchitecture architecture, bool training, bool recording, int hidden, int embedding, int layers, int length, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        using var model = CaptionModel.Create(new CaptionModelOptions
        {
            Architecture = architecture, VocabularySize = Vocabulary, FeatureDimension = Features,
            EmbeddingSize = embedding, HiddenSize = hidden, Layers = layers,
        });
        model.train(training);
        var features = torch.randn([Batch, Features]);
        var tokens = torch.randint(1, Vocabulary, [Batch, length], dtype: ScalarType.Int64);
        var weights = Weights(model);
        var failures = new List<string>();

        Tensor actualHidden;
        var actualLogits = new List<Tensor>();
        using (torch.set_grad_enabled(recording))
        {
            actualHidden = model.Hidden(features, tokens);
            var state = model.Begin(features);
            for (var t = 0; t < length; t++)
            {
                var (logits, next) = model.Step(tokens.select(1, t), state);
                state.Dispose();
                state = next;
                actualLogits.Add(logits);
            }
            state.Dispose();
        }
        if (actualHidden.requires_grad != recording) failures.Add($"Hidden requires_grad is {actualHidden.requires_grad} with recording {recording}");

        using (torch.no_grad())
        {
            var expected = ReferenceHidden(architecture, weights, layers, features, tokens);
            var hiddenDifference = MaxDifference(actualHidden, expected);
            if (!(hiddenDifference <= Tolerance)) failures.Add($"Hidden differs by {hiddenDifference:G4}");
            for (var t = 0; t < length; t++)
            {
                var stepDifference = MaxDifference(actualLogits[t], Linear(weights, "fc", expected.select(1, t)));
                if (!(stepDifference <= Tolerance)) failures.Add($"Step {t} logits differ by {stepDifference:G4}");
            }
        }

        if (recording) failures.AddRange(CheckGradients(architecture, model, weights, layers, features, tokens, actualHidden));
        return failures;
    }

    // d/dθ Σ r·hidden for a fixed random r, against autograd through the float64 equations.
    private static IEnumerable<string> CheckGradients(CaptionArchitecture architecture, LstmCaptionModel model, Dictionary<string, Tensor> weights,
        int layers, Tensor features, Tensor tokens, Tensor actualHidden)
    {
        var direction = torch.randn(actualHidden.shape, dtype: ScalarType.Float64);
        actualHidden.mul(direction.to_type(ScalarType.Float32)).sum().backward();
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("lstm.", StringComparison.Ordinal)).ToArray();
        foreach (var (name, _) in parameters) weights[name].requires_grad_(true);
        ReferenceHidden(architecture, weights, layers, features, tokens).mul(direction).sum().backward();
        foreach (var (name, parameter) in parameters)
        {
            var expected = weights[name].grad ?? throw new InvalidOperationException($"no reference gradient for {name}");
            var actual = parameter.grad;
            if (actual is null)
            {
                yield return $"{name} has no gradient";
                continue;
            }
            var difference = MaxDifference(actual, expected);
            var scale = Math.Max(1, expected.abs().max().item<double>());
            if (!(difference <= Tolerance * scale)) yield return $"gradient of {name} differs by {difference:G4} (scale {scale:G3})";
        }
    }

    // Init-inject: h0 = tanh(img_to_h(img)), c0 = tanh(img_to_c(img)) for every layer, the LSTM's output. Merge: the
    // LSTM from zeros, then relu(decoder_fc(output + relu(img_fc(img)))).
    private static Tensor ReferenceHidden(CaptionArchitecture architecture, Dictionary<string, Tensor> w, int layers, Tensor features, Tensor tokens)
    {
        var image = features.to_type(ScalarType.Float64);
        var embedded = w["embedding.weight"].index_select(0, tokens.flatten()).reshape(tokens.size(0), tokens.size(1), -1);
        if (architecture == CaptionArchitecture.InitInject)
        {
            var h0 = Linear(w, "img_to_h", image).tanh().unsqueeze(0).expand(layers, -1, -1);
            var c0 = Linear(w, "img_to_c", image).tanh().unsqueeze(0).expand(layers, -1, -1);
            return Lstm(w, "lstm", layers, embedded, h0, c0);
        }
        var zeros = torch.zeros([layers, tokens.size(0), w["lstm.weight_hh_l0"].size(1)], dtype: ScalarType.Float64);
        var output = Lstm(w, "lstm", layers, embedded, zeros, zeros);
        var projected = Linear(w, "img_fc", image).relu();
        return Linear(w, "decoder_fc", output + projected.unsqueeze(1)).relu();
    }
}

using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;
using static ImageCaptioning.Tests.Modeling.WrittenOutEquations;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// Soft attention's teacher-forced forward and its decoding steps against the tutorial's equations written out, over
/// hidden, embedding, channel and attention sizes 1–130 and several grid sizes and lengths, in every mode: the step
/// reaches libtorch's LSTM cell, linear and softmax kernels, each of which must give the equations' numbers at 1e-5.
/// </summary>
[TestFixture]
[Kernels]
public sealed class SoftAttentionKernelSweepTests
{
    private const int Vocabulary = 9, Batch = 3;
    private const double Tolerance = 1e-5;
    private static readonly int[] Cells = [1, 4, 9, 7, 16];

    public static IEnumerable<TestCaseData> Cases() =>
        Modes().Select(m => new TestCaseData(m.Training, m.Recording).SetArgDisplayNames(m.Training ? "train" : "eval", m.Recording ? "recording" : "no_grad"));

    [TestCaseSource(nameof(Cases))]
    public void ForwardStepsAndGradientsFollowTheEquationsAtEverySize(bool training, bool recording)
    {
        var failures = new List<string>();
        var n = Sizes.Length;
        for (var i = 0; i < n; i++)
        {
            var options = new SoftAttentionOptions
            {
                VocabularySize = Vocabulary, HiddenSize = Sizes[i], EmbeddingSize = Sizes[(i * 5 + 1) % n],
                FeatureDimension = Sizes[(i * 11 + 2) % n], AttentionSize = Sizes[(i * 3 + 5) % n], GridCells = Cells[i % Cells.Length],
            };
            var length = Lengths[i % Lengths.Length];
            var label = $"hidden {options.HiddenSize}, embedding {options.EmbeddingSize}, channels {options.FeatureDimension}, " +
                $"attention {options.AttentionSize}, {options.GridCells} cells, length {length}";
            failures.AddRange(Check(options, training, recording, length, seed: 200 + i).Select(f => $"{label}: {f}"));
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static IEnumerable<string> Check(SoftAttentionOptions options, bool training, bool recording, int length, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        using var model = new SoftAttentionCaptionModel(options);
        model.train(training);
        var features = torch.randn([Batch, options.GridCells, options.FeatureDimension]);
        var tokens = torch.randint(1, Vocabulary, [Batch, length], dtype: ScalarType.Int64);
        var weights = Weights(model);
        var failures = new List<string>();

        Tensor logits, attention;
        var stepLogits = new List<Tensor>();
        var stepAttention = new List<Tensor?>();
        using (torch.set_grad_enabled(recording))
        {
            (logits, attention) = model.forward(features, tokens);
            using var decoder = model.BeginDecoding(features);
            for (var t = 0; t < length; t++)
            {
                var (l, a) = decoder.Step(tokens.select(1, t));
                stepLogits.Add(l.clone());   // a step's logits hold until the next step
                stepAttention.Add(a);
            }
        }

        using (torch.no_grad())
        {
            var (expectedLogits, expectedAttention) = Reference(weights, features, tokens);
            Compare(failures, "forward logits", logits, expectedLogits);
            Compare(failures, "forward attention", attention, expectedAttention);
            for (var t = 0; t < length; t++)
            {
                Compare(failures, $"step {t} logits", stepLogits[t], expectedLogits.select(1, t));
                if (stepAttention[t] is { } a) Compare(failures, $"step {t} attention", a, expectedAttention.select(1, t));
                else failures.Add($"step {t} reported no attention");
            }
        }

        if (recording)
        {
            var direction = torch.randn(logits.shape, dtype: ScalarType.Float64);
            logits.mul(direction.to_type(ScalarType.Float32)).sum().backward();
            var parameters = model.named_parameters().ToArray();
            foreach (var (name, _) in parameters) weights[name].requires_grad_(true);
            Reference(weights, features, tokens).Logits.mul(direction).sum().backward();
            foreach (var (name, parameter) in parameters)
            {
                var expected = weights[name].grad!;
                if (parameter.grad is not { } actual)
                {
                    failures.Add($"{name} has no gradient");
                    continue;
                }
                var difference = MaxDifference(actual, expected);
                var scale = Math.Max(1, expected.abs().max().item<double>());
                if (!(difference <= Tolerance * scale)) failures.Add($"gradient of {name} differs by {difference:G4} (scale {scale:G3})");
            }
        }
        return failures;
    }

    private static void Compare(List<string> failures, string what, Tensor actual, Tensor expected)
    {
        var difference = MaxDifference(actual, expected);
        if (!(difference <= Tolerance)) failures.Add($"{what} differ by {difference:G4}");
    }

    // Show, Attend and Tell as the tutorial writes it: h0, c0 from the mean cell; at each word, additive attention
    // with the state before it, a sigmoid gate on the context, an LSTM cell over [word, gated context], fc(h).
    private static (Tensor Logits, Tensor Attention) Reference(Dictionary<string, Tensor> w, Tensor features, Tensor tokens)
    {
        var grid = features.to_type(ScalarType.Float64);
        var mean = grid.mean([1]);
        var (h, c) = (Linear(w, "init_h", mean), Linear(w, "init_c", mean));
        var projected = Linear(w, "attention.encoder_att", grid);
        var logits = new List<Tensor>();
        var attention = new List<Tensor>();
        for (var t = 0; t < tokens.size(1); t++)
        {
            var scores = Linear(w, "attention.full_att", (projected + Linear(w, "attention.decoder_att", h).unsqueeze(1)).relu()).squeeze(2);
            var alpha = scores.softmax(1);
            var context = (alpha.unsqueeze(2) * grid).sum(1);
            var gated = Linear(w, "f_beta", h).sigmoid() * context;
            var word = w["embedding.weight"].index_select(0, tokens.select(1, t));
            (h, c) = LstmCell(torch.cat([word, gated], 1), h, c, w["decode_step.weight_ih"], w["decode_step.weight_hh"],
                w["decode_step.bias_ih"], w["decode_step.bias_hh"]);
            logits.Add(Linear(w, "fc", h));
            attention.Add(alpha);
        }
        return (torch.stack(logits, 1), torch.stack(attention, 1));
    }
}

using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;
using static ImageCaptioning.Tests.Modeling.WrittenOutEquations;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// The transformer decoder's teacher-forced forward and its cached decoding steps against the post-norm decoder layer
/// written out (plain matmuls and softmax, no scaled-dot-product kernel), over model, feed-forward and channel sizes
/// 1–130, head counts, grid sizes, lengths, both activations and both position encodings, in every mode, at 1e-5.
/// </summary>
[TestFixture]
[Kernels]
public sealed class TransformerKernelSweepTests
{
    private const int Vocabulary = 9, Batch = 3, MaxPositions = 16;
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
            var dimension = Sizes[i];
            var options = new TransformerCaptionOptions
            {
                VocabularySize = Vocabulary, ModelDimension = dimension, Heads = dimension % 4 == 0 ? 4 : dimension % 2 == 0 ? 2 : 1,
                FeedForwardSize = Sizes[(i * 7 + 3) % n], FeatureDimension = Sizes[(i * 11 + 2) % n], GridCells = Cells[i % Cells.Length],
                Layers = i % 4 == 3 ? 2 : 1, Activation = i % 2 == 0 ? TransformerActivation.ReLU : TransformerActivation.GELU,
                Positions = i % 3 == 0 ? PositionEncoding.Sinusoidal : PositionEncoding.Learned, MaxPositions = MaxPositions,
            };
            var length = Lengths[i % Lengths.Length];
            var label = $"model {dimension} ({options.Heads} heads), feed-forward {options.FeedForwardSize}, channels {options.FeatureDimension}, " +
                $"{options.GridCells} cells, {options.Layers} layer(s), {options.Activation}, {options.Positions}, length {length}";
            failures.AddRange(Check(options, training, recording, length, seed: 300 + i).Select(f => $"{label}: {f}"));
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static IEnumerable<string> Check(TransformerCaptionOptions options, bool training, bool recording, int length, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        using var model = new TransformerCaptionModel(options);
        model.train(training);
        var features = torch.randn([Batch, options.GridCells, options.FeatureDimension]);
        var tokens = torch.randint(1, Vocabulary, [Batch, length], dtype: ScalarType.Int64);
        var weights = Weights(model);
        var failures = new List<string>();

        Tensor logits;
        var stepLogits = new List<Tensor>();
        var stepAttention = new List<Tensor?>();
        using (torch.set_grad_enabled(recording))
        {
            logits = model.forward(features, tokens);
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
            var (expectedLogits, expectedAttention) = Reference(options, weights, features, tokens);
            Compare(failures, "forward logits", logits, expectedLogits);
            for (var t = 0; t < length; t++)
            {
                Compare(failures, $"step {t} logits", stepLogits[t], expectedLogits.select(1, t));
                // The grid attention is reported while decoding without gradients only.
                if (stepAttention[t] is { } a) Compare(failures, $"step {t} attention", a, expectedAttention.select(1, t));
                else if (!recording) failures.Add($"step {t} reported no attention");
            }
        }

        if (recording)
        {
            var direction = torch.randn(logits.shape, dtype: ScalarType.Float64);
            logits.mul(direction.to_type(ScalarType.Float32)).sum().backward();
            var parameters = model.named_parameters().ToArray();
            foreach (var (name, _) in parameters) weights[name].requires_grad_(true);
            Reference(options, weights, features, tokens).Logits.mul(direction).sum().backward();
            foreach (var (name, parameter) in parameters)
            {
                var expected = weights[name].grad;
                if (expected is null) continue; // positions beyond the caption's length
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

    // nn.TransformerDecoderLayer (post-norm) over the projected grid, teacher-forced with a causal mask. Also returns
    // the last layer's cross-attention weights averaged over heads, [B, T, P].
    private static (Tensor Logits, Tensor Attention) Reference(TransformerCaptionOptions o, Dictionary<string, Tensor> w, Tensor features, Tensor tokens)
    {
        var d = o.ModelDimension;
        var memory = Linear(w, "feature_proj", features.to_type(ScalarType.Float64));
        var length = tokens.size(1);
        var x = w["embedding.weight"].index_select(0, tokens.flatten()).reshape(tokens.size(0), length, d) + Positions(o, w, length).unsqueeze(0);
        Tensor attention = null!;
        for (var layer = 0; layer < o.Layers; layer++)
        {
            var p = $"layers.{layer}.";
            var (q, k, v) = (Project(w, p + "self_attn", 0, x, o.Heads), Project(w, p + "self_attn", 1, x, o.Heads), Project(w, p + "self_attn", 2, x, o.Heads));
            x = LayerNorm(w, p + "norm1", x + Linear(w, p + "self_attn.out_proj", MergeHeads(Attention(q, k, v, causal: true))));
            var (q2, k2, v2) = (Project(w, p + "multihead_attn", 0, x, o.Heads), Project(w, p + "multihead_attn", 1, memory, o.Heads), Project(w, p + "multihead_attn", 2, memory, o.Heads));
            attention = (q2.matmul(k2.transpose(2, 3)) / Math.Sqrt(q2.size(3))).softmax(3).mean([1]);
            x = LayerNorm(w, p + "norm2", x + Linear(w, p + "multihead_attn.out_proj", MergeHeads(Attention(q2, k2, v2, causal: false))));
            var hidden = Linear(w, p + "linear1", x);
            hidden = o.Activation == TransformerActivation.GELU ? hidden * 0.5 * (1 + (hidden / Math.Sqrt(2)).erf()) : hidden.relu();
            x = LayerNorm(w, p + "norm3", x + Linear(w, p + "linear2", hidden));
        }
        return (Linear(w, "fc", x), attention);
    }

    // The part-th third (query, key, value) of MultiheadAttention's packed in_proj, split into heads: [B, H, L, D/H].
    private static Tensor Project(Dictionary<string, Tensor> w, string name, int part, Tensor x, int heads)
    {
        var d = x.size(2);
        var projected = x.matmul(w[name + ".in_proj_weight"].narrow(0, part * d, d).t()) + w[name + ".in_proj_bias"].narrow(0, part * d, d);
        return projected.reshape(x.size(0), x.size(1), heads, d / heads).transpose(1, 2);
    }

    private static Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(x.size(0), x.size(2), -1);

    private static Tensor Positions(TransformerCaptionOptions o, Dictionary<string, Tensor> w, long length)
    {
        if (o.Positions == PositionEncoding.Learned) return w["positions.weight"].narrow(0, 0, length);
        var table = torch.zeros([length, o.ModelDimension], dtype: ScalarType.Float64);
        for (var t = 0; t < length; t++)
            for (var j = 0; j < o.ModelDimension; j++)
            {
                var angle = t / Math.Pow(10000, (j - j % 2) / (double)o.ModelDimension);
                table[t, j] = j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        return table;
    }
}

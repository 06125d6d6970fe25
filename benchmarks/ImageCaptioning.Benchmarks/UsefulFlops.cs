using System.Globalization;
using System.Text.Json;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// The floating-point work a training or decoding case must do, counted from the model's shapes: the multiply-adds
/// (2 FLOPs each) of its matrix products at the real tokens only, padding excluded, whatever the implementation
/// computes. A training step counts its forward products three times (forward, and the two backward products per
/// forward one); elementwise work, softmaxes and the optimizer are left out. The same count serves every side of a
/// comparison, so a side that computes padding or re-runs a prefix shows a lower share, not a higher count.
/// </summary>
/// <remarks>
/// Cases record their counts in <see cref="Record"/>; benchmarks/compare.py divides each by the case's median time and
/// by the best <see cref="PeakBenchmarks"/> SGEMM rate of the same run.
/// </remarks>
internal static class UsefulFlops
{
    /// <summary>benchmarks/compare.py names the file that collects the counts; without it nothing is written.</summary>
    public const string Variable = "IMAGECAPTIONING_BENCH_FLOPS";

    /// <summary>The training step's factor over its forward products.</summary>
    public const double Training = 3;

    /// <summary>
    /// Appends one line <c>{"case": "Method(Parameters)", "flops": N}</c>, keyed as BenchmarkDotNet's report keys the
    /// case (parameters as <c>Name=value</c> joined by <c>&amp;</c>).
    /// </summary>
    public static void Record(string method, double flops, params (string Name, object Value)[] parameters)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path) return;
        var key = parameters.Length == 0 ? method
            : $"{method}({string.Join('&', parameters.Select(p => $"{p.Name}={Convert.ToString(p.Value, CultureInfo.InvariantCulture)}"))})";
        File.AppendAllText(path, JsonSerializer.Serialize(new { @case = key, flops }) + "\n");
    }

    /// <summary>A product of [m, k] by [k, n].</summary>
    public static double MatMul(double m, double k, double n) => 2 * m * k * n;

    /// <summary>One LSTM step of one row: the input and recurrent products of the four gates.</summary>
    public static double LstmStep(int input, int hidden) => MatMul(1, input + hidden, 4.0 * hidden);

    /// <summary>
    /// The recipe's init-inject LSTM over <paramref name="rows"/> token positions of <paramref name="captions"/>
    /// captions: h₀ and c₀ from the features once per caption, then per position an LSTM step and the vocabulary
    /// projection.
    /// </summary>
    public static double Recipe(double captions, double rows, int features, int embedding, int hidden, int vocabulary) =>
        captions * 2 * MatMul(1, features, hidden) + rows * (LstmStep(embedding, hidden) + MatMul(1, hidden, vocabulary));

    /// <summary>
    /// sgrvinod's soft-attention decoder: per caption the initial state and the encoder's attention projection of
    /// every cell; per position the decoder's attention projection, the scores and the weighted context, the gate,
    /// an LSTM cell over [embedding, context] and the vocabulary projection.
    /// </summary>
    public static double SoftAttention(double captions, double rows, int cells, int features, int embedding, int hidden, int attention, int vocabulary) =>
        captions * (2 * MatMul(1, features, hidden) + MatMul(cells, features, attention))
        + rows * (MatMul(1, hidden, attention) + MatMul(1, attention, cells) + MatMul(1, cells, features) + MatMul(1, hidden, features)
                  + LstmStep(embedding + features, hidden) + MatMul(1, hidden, vocabulary));

    /// <summary>
    /// The transformer decoder: per caption the feature projection and each layer's cross-attention keys and values of
    /// every cell; per position and layer the self-attention projections, its scores and weighted values over
    /// <paramref name="attended"/> positions, the cross-attention query, scores, values and output, and the feed-forward
    /// block; per position the vocabulary projection.
    /// </summary>
    public static double Transformer(double captions, double rows, double attended, int cells, int features, int model, int layers, int feedForward, int vocabulary) =>
        captions * (MatMul(cells, features, model) + layers * MatMul(cells, model, 2.0 * model))
        + rows * (layers * (MatMul(1, model, 4.0 * model) + 2 * MatMul(1, model, attended)
                            + MatMul(1, model, 2.0 * model) + 2 * MatMul(1, model, cells)
                            + 2 * MatMul(1, model, feedForward))
                  + MatMul(1, model, vocabulary));
}

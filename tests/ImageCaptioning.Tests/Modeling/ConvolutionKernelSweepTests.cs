using ImageCaptioning.Torch.Runtime;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;
using static ImageCaptioning.Tests.Modeling.WrittenOutEquations;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// The float32 convolutions the library's CNNs run (oneDNN's forward, backward-data and backward-weights kernels, a
/// different one per ISA family and shape) against the same convolution in float64, which libtorch computes without
/// oneDNN, over channel counts, kernel sizes, strides, paddings and image sizes, with and without bias, in every mode.
/// The runtime is loaded first, as the library's networks load it: on a CPU where it switches oneDNN off, this checks
/// libtorch's own float32 kernels instead.
/// </summary>
[TestFixture]
[Kernels]
public sealed class ConvolutionKernelSweepTests
{
    private const double Tolerance = 1e-5;
    private static readonly int[] Channels = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 24, 31, 32, 33, 64, 65];

    // (kernel, stride, padding): the 7×7/2 stem, 3×3 at strides 1 and 2, 1×1 projections at strides 1 and 2.
    private static readonly (int Kernel, int Stride, int Padding)[] Geometries = [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0), (7, 2, 3)];
    private static readonly int[] ImageSizes = [5, 8, 12, 16];

    [OneTimeSetUp]
    public void LoadTheRuntimeAsTheLibraryDoes() => TorchRuntime.EnsureLoaded();

    public static IEnumerable<TestCaseData> Cases() =>
        Modes().Select(m => new TestCaseData(m.Training, m.Recording).SetArgDisplayNames(m.Training ? "train" : "eval", m.Recording ? "recording" : "no_grad"));

    [TestCaseSource(nameof(Cases))]
    public void OutputsAndGradientsMatchFloat64AtEveryShape(bool training, bool recording)
    {
        var failures = new List<string>();
        var n = Channels.Length;
        for (var i = 0; i < n; i++)
        {
            foreach (var (kernel, stride, padding) in Geometries)
            {
                var (input, output) = (Channels[i], Channels[(i * 5 + 3) % n]);
                var size = ImageSizes[(i + kernel) % ImageSizes.Length];
                var bias = (i + stride) % 2 == 0;
                var label = $"{input}→{output} channels, {kernel}×{kernel}/{stride} pad {padding}, {size}×{size}, bias {bias}";
                failures.AddRange(Check(training, recording, input, output, kernel, stride, padding, size, bias, seed: 400 + i).Select(f => $"{label}: {f}"));
            }
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static IEnumerable<string> Check(bool training, bool recording, int inputChannels, int outputChannels, int kernel, int stride, int padding, int size, bool bias, int seed)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(seed);
        using var convolution = torch.nn.Conv2d(inputChannels, outputChannels, kernel, stride: stride, padding: padding, bias: bias);
        convolution.train(training);
        var images = torch.randn([3, inputChannels, size, size]).requires_grad_(recording);
        var failures = new List<string>();

        Tensor actual;
        using (torch.set_grad_enabled(recording)) actual = convolution.forward(images);

        var weights = Weights(convolution);
        var images64 = images.detach().to_type(ScalarType.Float64).requires_grad_(recording);
        foreach (var w in weights.Values) w.requires_grad_(recording);
        Tensor expected;
        using (torch.set_grad_enabled(recording))
            expected = torch.nn.functional.conv2d(images64, weights["weight"], bias ? weights["bias"] : null, [stride, stride], [padding, padding]);

        var difference = MaxDifference(actual, expected.detach());
        if (!(difference <= Tolerance)) failures.Add($"output differs by {difference:G4}");
        if (!recording) return failures;

        var direction = torch.randn(expected.shape, dtype: ScalarType.Float64);
        actual.mul(direction.to_type(ScalarType.Float32)).sum().backward();
        expected.mul(direction).sum().backward();
        CompareGradient(failures, "input", images.grad, images64.grad!);
        foreach (var (name, parameter) in convolution.named_parameters()) CompareGradient(failures, name, parameter.grad, weights[name].grad!);
        return failures;
    }

    private static void CompareGradient(List<string> failures, string name, Tensor? actual, Tensor expected)
    {
        if (actual is null)
        {
            failures.Add($"{name} has no gradient");
            return;
        }
        var difference = MaxDifference(actual, expected);
        var scale = Math.Max(1, expected.abs().max().item<double>());
        if (!(difference <= Tolerance * scale)) failures.Add($"gradient of {name} differs by {difference:G4} (scale {scale:G3})");
    }
}

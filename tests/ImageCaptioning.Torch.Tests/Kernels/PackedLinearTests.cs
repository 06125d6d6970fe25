using ImageCaptioning.Torch.Kernels;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Kernels;

/// <summary>
/// The packed projection against torch's linear computed in float64, for both vector widths, across the shapes that
/// stress its tiles: outputs that are not a multiple of a panel (16) or a pair of panels (32), row counts around the
/// tile heights (6 and 8), one input feature, and the decoding shapes. In the category Kernels, so that
/// scripts/run-tests.sh also runs it with the JIT's AVX-512 off (the 256-bit kernel chosen by default).
/// </summary>
[TestFixture]
[Category("Kernels")]
public sealed class PackedLinearTests
{
    private static readonly int[][] Shapes =
    [
        // out, in, rows
        [1, 1, 1], [15, 7, 5], [16, 16, 6], [17, 3, 7], [31, 256, 8], [32, 256, 9], [33, 64, 13], [47, 5, 16],
        [1000, 256, 1], [1000, 256, 64], [8000, 256, 64], [2049, 130, 193], [64, 512, 320],
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var width in new[] { nameof(KernelWidth.Vector512), nameof(KernelWidth.Vector256) })
            foreach (var shape in Shapes)
                foreach (var withBias in new[] { true, false })
                    yield return new TestCaseData(width, shape[0], shape[1], shape[2], withBias)
                        .SetName($"{width} out={shape[0]} in={shape[1]} rows={shape[2]} bias={withBias}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesLinearInFloat64(string widthName, int outFeatures, int inFeatures, int rows, bool withBias)
    {
        var width = Enum.Parse<KernelWidth>(widthName);
        Assume.That(PackedLinear.Accelerated(width), $"{width} is not accelerated on this CPU");
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator((ulong)(outFeatures * 7919 + inFeatures * 31 + rows));
        var weight = torch.randn([outFeatures, inFeatures], generator: generator);
        var bias = withBias ? torch.randn([outFeatures], generator: generator) : null;
        var input = torch.randn([rows, inFeatures], generator: generator);
        var expected = torch.nn.functional.linear(input.to(ScalarType.Float64), weight.to(ScalarType.Float64), bias?.to(ScalarType.Float64));

        var actual = new PackedLinear(weight, bias, width).Forward(input);

        Assert.That(actual.shape, Is.EqualTo(new long[] { rows, outFeatures }));
        Assert.That(actual.dtype, Is.EqualTo(ScalarType.Float32));
        // float32 sums of inFeatures products of unit normals: rounding grows like sqrt(in) × eps × |terms|.
        var tolerance = 1e-5 * Math.Sqrt(inFeatures) * 4;
        var error = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.That(error, Is.LessThan(tolerance), $"max abs error {error}");
    }

    [Test]
    public void ReadsANonContiguousInputAsItsValues()
    {
        Assume.That(PackedLinear.IsSupported, "no accelerated kernel on this CPU");
        using var scope = torch.NewDisposeScope();
        var weight = torch.randn(40, 24);
        var bias = torch.randn(40);
        var transposed = torch.randn(24, 11).t();   // [11, 24] with strides (1, 11)
        var packed = new PackedLinear(weight, bias);
        var error = (packed.Forward(transposed) - torch.nn.functional.linear(transposed, weight, bias)).abs().max().item<float>();
        Assert.That(error, Is.LessThan(1e-4f));
        Assert.That(packed.Forward(torch.empty(0, 24)).shape, Is.EqualTo(new long[] { 0, 40 }));
    }

    [Test]
    public void WritesIntoAGivenOutputAndItsLeadingRows()
    {
        Assume.That(PackedLinear.IsSupported, "no accelerated kernel on this CPU");
        using var scope = torch.NewDisposeScope();
        var weight = torch.randn(37, 24);
        var bias = torch.randn(37);
        var packed = new PackedLinear(weight, bias);
        var buffer = torch.full([9, 37], 7f);
        var input = torch.randn(5, 24);
        var rows = buffer.narrow(0, 0, 5);
        var result = packed.Forward(input, rows);
        Assert.That(result, Is.SameAs(rows), "the given output is returned");
        var error = (buffer.narrow(0, 0, 5) - torch.nn.functional.linear(input, weight, bias)).abs().max().item<float>();
        Assert.That(error, Is.LessThan(1e-4f), "the leading rows hold the product");
        Assert.That(buffer.narrow(0, 5, 4).eq(7f).all().item<bool>(), Is.True, "the rows after them are untouched");
        Assert.That(Assert.Throws<ArgumentException>(() => packed.Forward(input, torch.empty(4, 37)))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.Throws<ArgumentException>(() => packed.Forward(input, torch.empty(37, 5).t()))!.Message, Does.Contain("contiguous [5, 37]"));
        Assert.That(Assert.Throws<ArgumentException>(() => packed.Forward(input, torch.empty(5, 37, ScalarType.Float64)))!.ParamName, Is.EqualTo("output"));
    }

    [Test]
    public void KeepsTheWeightsItPacked()
    {
        Assume.That(PackedLinear.IsSupported, "no accelerated kernel on this CPU");
        using var scope = torch.NewDisposeScope();
        var weight = torch.randn(20, 8);
        var input = torch.randn(3, 8);
        var packed = new PackedLinear(weight);
        var before = packed.Forward(input);
        weight.mul_(2);
        Assert.That((packed.Forward(input) - before).abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void RefusesWhatItCannotMultiplyNamingTheArgument()
    {
        Assume.That(PackedLinear.IsSupported, "no accelerated kernel on this CPU");
        using var scope = torch.NewDisposeScope();
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new PackedLinear(torch.randn(4, 3).to(ScalarType.Float64)))!.ParamName, Is.EqualTo("weight"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new PackedLinear(torch.randn(4, 3, 2)))!.ParamName, Is.EqualTo("weight"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new PackedLinear(torch.randn(4, 3), torch.randn(5)))!.ParamName, Is.EqualTo("bias"));
        var packed = new PackedLinear(torch.randn(4, 3));
        var error = Assert.Throws<ArgumentException>(() => packed.Forward(torch.randn(2, 5)))!;
        Assert.That(error.ParamName, Is.EqualTo("input"));
        Assert.That(error.Message, Does.Contain("[N, 3]"));
        Assert.That(Assert.Throws<ArgumentException>(() => packed.Forward(torch.randn(2, 3).to(ScalarType.Float64)))!.ParamName, Is.EqualTo("input"));
    }
}

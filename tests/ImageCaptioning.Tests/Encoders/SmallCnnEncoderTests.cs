using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Encoders;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Tests.Modeling;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Encoders;

/// <summary>
/// SmallCnnEncoder against the same nn.Sequential in PyTorch (reference/vision_encoders.py) given the same weights:
/// the eval-mode and train-mode grids, every gradient and the batch-norm running statistics within 1e-5.
/// </summary>
[TestFixture]
[Kernels]
public sealed class SmallCnnEncoderTests
{
    private static IEnumerable<TestCaseData> Shapes()
    {
        yield return new TestCaseData(new SmallCnnEncoderOptions { InputSize = 16, Widths = [4, 6, 8], ConvolutionsPerStage = 2 }).SetArgDisplayNames("batch-norm, 2 convolutions a stage");
        yield return new TestCaseData(new SmallCnnEncoderOptions { InputSize = 12, Widths = [5, 7], BatchNorm = false }).SetArgDisplayNames("no batch norm, 3x3 grid");
        yield return new TestCaseData(new SmallCnnEncoderOptions { InputSize = 16, Widths = [4, 6], Downsampling = SmallCnnDownsampling.MaxPool })
            .SetArgDisplayNames("max-pool stages, 4x4 grid");
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesPyTorch(SmallCnnEncoderOptions options)
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(21);
        using var encoder = new SmallCnnEncoder(options);
        using (torch.no_grad())
        {
            // Running statistics and affine parameters away from their initial values, so eval mode is exercised.
            foreach (var (name, buffer) in encoder.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.normal_(0, 0.1);
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.uniform_(0.5, 1.5);
            }
            foreach (var (name, parameter) in encoder.named_parameters().Where(p => p.parameter.ndim == 1))
                parameter.uniform_(0.5, 1.5);
        }

        const int N = 4;
        var rows = torch.randn([N, encoder.InputDimension]);
        var upstream = torch.randn([N, encoder.Cells, encoder.Channels]);
        var state = new JsonObject();
        foreach (var (key, value) in encoder.state_dict()) state[key] = TensorJson.Encode(value);
        var spec = new JsonObject
        {
            ["widths"] = new JsonArray(options.Widths.Select(w => (JsonNode)w).ToArray()), ["convolutionsPerStage"] = options.ConvolutionsPerStage,
            ["batchNorm"] = options.BatchNorm, ["downsampling"] = options.Downsampling.ToString(), ["inputSize"] = options.InputSize, ["state"] = state,
            ["rows"] = TensorJson.Encode(rows), ["upstream"] = TensorJson.Encode(upstream),
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("vision_encoders.py", "small_cnn", dir.File("spec.json"))).RootElement;

        var differences = new List<(string What, double Max)>();
        encoder.eval();
        using (torch.no_grad())
            differences.Add(("eval grid", ReferenceComparison.Compare(expected.GetProperty("eval"), encoder.forward(rows), "eval grid")));

        encoder.train();
        var grid = encoder.forward(rows);
        Assert.That(grid.shape, Is.EqualTo(new long[] { N, options.GridSize * options.GridSize, options.Widths[^1] }));
        differences.Add(("train grid", ReferenceComparison.Compare(expected.GetProperty("train"), grid, "train grid")));
        grid.mul(upstream).sum().backward();
        var gradients = expected.GetProperty("gradients");
        Assert.That(encoder.named_parameters().Select(p => p.name), Is.EquivalentTo(gradients.EnumerateObject().Select(p => p.Name)), "parameter names");
        differences.Add(("gradients", encoder.named_parameters().Max(p =>
            ReferenceComparison.Compare(gradients.GetProperty(p.name), p.parameter.grad!, $"gradient of {p.name}"))));

        var buffers = expected.GetProperty("buffers");
        Assert.That(encoder.named_buffers().Select(b => b.name), Is.EquivalentTo(buffers.EnumerateObject().Select(b => b.Name)), "buffer names");
        foreach (var (name, buffer) in encoder.named_buffers())
        {
            if (buffer.dtype == ScalarType.Int64) TensorJson.AssertClose(buffers.GetProperty(name), buffer, name);
            else differences.Add((name, ReferenceComparison.Compare(buffers.GetProperty(name), buffer, name)));
        }

        ReferenceComparison.Report("", differences);
    }

    [Test]
    public void TheDefaultsTurnA64PixelImageIntoAn8By8GridOf64()
    {
        using var encoder = new SmallCnnEncoder();
        Assert.That((encoder.InputDimension, encoder.Cells, encoder.Channels), Is.EqualTo((3 * 64 * 64, 64, 64)));
        Assert.That(encoder.TrainableParameters().Count(), Is.EqualTo(encoder.parameters().Count()), "everything trains");
        Assert.That(encoder.state_dict().Keys, Is.EquivalentTo(new[]
        {
            "layers.0.weight", "layers.1.weight", "layers.1.bias", "layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked",
            "layers.3.weight", "layers.4.weight", "layers.4.bias", "layers.4.running_mean", "layers.4.running_var", "layers.4.num_batches_tracked",
            "layers.6.weight", "layers.7.weight", "layers.7.bias", "layers.7.running_mean", "layers.7.running_var", "layers.7.num_batches_tracked",
        }), "the convolutions before a batch norm have no bias");
    }

    [Test]
    public void CellsAreRowMajorWithTheirChannelsTogether()
    {
        // One stage without batch norm whose convolution copies the centre pixel's red value: cell (r, c) is input
        // pixel (2r, 2c), so the grid's order shows directly.
        using var encoder = new SmallCnnEncoder(new SmallCnnEncoderOptions { InputSize = 8, Widths = [2], BatchNorm = false });
        using (torch.no_grad())
        {
            var (_, weight) = encoder.named_parameters().Single(p => p.name == "layers.0.weight");
            weight.zero_();
            weight[0, 0, 1, 1] = torch.tensor(1f);
            weight[1, 0, 1, 1] = torch.tensor(2f);
            encoder.named_parameters().Single(p => p.name == "layers.0.bias").parameter.zero_();
        }
        var red = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        using var rows = torch.cat([torch.tensor(red), torch.zeros(128)]).reshape(1, -1);
        using var grid = encoder.forward(rows);
        Assert.That(grid.shape, Is.EqualTo(new long[] { 1, 16, 2 }));
        var expected = Enumerable.Range(0, 16).SelectMany(cell => new[] { red[(cell / 4 * 2 * 8) + (cell % 4 * 2)], 2 * red[(cell / 4 * 2 * 8) + (cell % 4 * 2)] });
        Assert.That(grid.data<float>().ToArray(), Is.EqualTo(expected.ToArray()));
    }

    [Test]
    public void RowsOfAnotherSizeAreRefusedNamingTheExpectedPixels()
    {
        using var encoder = new SmallCnnEncoder();
        using var fc7 = torch.zeros(2, 4096);
        var exception = Assert.Throws<ArgumentException>(() => encoder.forward(fc7).Dispose())!;
        Assert.That(exception.Message, Does.Contain("[N, 12288]").And.Contain("pixels-64x64").And.Contain("[2, 4096]"));
    }

    [Test]
    public void EachSettingIsCheckedWhereItIsSet()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SmallCnnEncoderOptions { InputSize = 1 })!.ParamName, Is.EqualTo("InputSize"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SmallCnnEncoderOptions { Widths = [] })!.ParamName, Is.EqualTo("Widths"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SmallCnnEncoderOptions { Widths = [8, 0] })!.ParamName, Is.EqualTo("Widths"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => _ = new SmallCnnEncoderOptions { Widths = null! })!.ParamName, Is.EqualTo("Widths"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SmallCnnEncoderOptions { ConvolutionsPerStage = 0 })!.ParamName, Is.EqualTo("ConvolutionsPerStage"));

        var uneven = new SmallCnnEncoderOptions { InputSize = 60 };
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new SmallCnnEncoder(uneven).Dispose())!;
        Assert.That(exception.ParamName, Is.EqualTo("InputSize"));
        Assert.That(exception.Message, Does.Contain("multiple of 2^3"));
        Assert.That(new SmallCnnEncoderOptions { InputSize = 96, Widths = [8, 16, 32, 64, 128] }.Validate().GridSize, Is.EqualTo(3));
    }
}

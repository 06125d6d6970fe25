using ImageCaptioning.Torch.Runtime;
using System.Globalization;
using ImageCaptioning.Modeling;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Encoders;

/// <summary>
/// A small CNN trained from scratch with the caption model: per stage, a 3×3 convolution of stride 2 (then
/// <see cref="SmallCnnEncoderOptions.ConvolutionsPerStage"/> − 1 of stride 1), each followed by a batch norm when
/// <see cref="SmallCnnEncoderOptions.BatchNorm"/> and a ReLU. Its state_dict is one <c>nn.Sequential</c>,
/// <c>layers.{i}.*</c>, the modules numbered in that order (conv, [bn,] relu, ...).
/// </summary>
public sealed class SmallCnnEncoder : ImageEncoder
{
    /// <summary>The <see cref="ImageEncoderDescription.Kind"/> of this encoder.</summary>
    public const string Kind = "small-cnn";

    private readonly Sequential layers;

    /// <summary>Builds the network with PyTorch's default initialisation (seed it with <c>torch.manual_seed</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The options do not fit together (<see cref="SmallCnnEncoderOptions.Validate"/>).</exception>
    public SmallCnnEncoder(SmallCnnEncoderOptions? options = null) : base(nameof(SmallCnnEncoder))
    {
        TorchRuntime.EnsureLoaded();
        Options = (options ?? new SmallCnnEncoderOptions()).Validate();
        var modules = new List<torch.nn.Module<Tensor, Tensor>>();
        var channels = 3;
        foreach (var width in Options.Widths)
        {
            for (var i = 0; i < Options.ConvolutionsPerStage; i++)
            {
                var stride = i == 0 && Options.Downsampling == SmallCnnDownsampling.StridedConvolution ? 2 : 1;
                modules.Add(torch.nn.Conv2d(channels, width, 3, stride: stride, padding: 1, bias: !Options.BatchNorm));
                if (Options.BatchNorm) modules.Add(torch.nn.BatchNorm2d(width));
                modules.Add(torch.nn.ReLU(inplace: true));
                channels = width;
            }
            if (Options.Downsampling == SmallCnnDownsampling.MaxPool) modules.Add(torch.nn.MaxPool2d(2));
        }

        layers = this.Register("layers", torch.nn.Sequential(modules));
    }

    /// <summary>Keeps the state_dict names above when the caption model registers this encoder (TorchSharp would add its fields under their C# names).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The encoder's shape.</summary>
    public SmallCnnEncoderOptions Options { get; }

    /// <inheritdoc />
    public override int InputDimension => 3 * Options.InputSize * Options.InputSize;

    /// <inheritdoc />
    public override int Cells => Options.GridSize * Options.GridSize;

    /// <inheritdoc />
    public override int Channels => Options.Widths[^1];

    /// <inheritdoc />
    public override ImageEncoderDescription Description => new(Kind, new Dictionary<string, string>
    {
        [EncoderSettings.InputSize] = Options.InputSize.ToString(CultureInfo.InvariantCulture),
        [EncoderSettings.Widths] = string.Join(',', Options.Widths.Select(w => w.ToString(CultureInfo.InvariantCulture))),
        [EncoderSettings.ConvolutionsPerStage] = Options.ConvolutionsPerStage.ToString(CultureInfo.InvariantCulture),
        [EncoderSettings.BatchNorm] = Options.BatchNorm ? "true" : "false",
        [EncoderSettings.Downsampling] = Options.Downsampling.ToString(),
    });

    /// <summary>Maps pixel rows <c>[N, 3·S·S]</c> (<see cref="PixelFeatureExtractor"/>'s) to the grid <c>[N, (S/2^stages)², last width]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var images = EncoderInput.Images(input, InputDimension, Options.InputSize, Kind);
        return FeatureGrid.Cells(layers.forward(images)).MoveToOuterDisposeScope();
    }
}

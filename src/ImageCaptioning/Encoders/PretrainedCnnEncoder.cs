using System.Globalization;
using ImageCaptioning.Modeling;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Encoders;

/// <summary>
/// A pretrained CNN fine-tuned with the caption model, as sgrvinod's tutorial's <c>Encoder.fine_tune</c> does:
/// the last <see cref="PretrainedCnnEncoderOptions.TrainableBlocks"/> blocks train, the others are frozen
/// (<c>requires_grad</c> false) and their batch norms stay in eval mode whenever the model trains, so the ImageNet
/// statistics they were trained with are kept. The output is the network's last map as a grid: ResNet-50's
/// <c>layer4</c> <c>[N, (S/32)², 2048]</c> or VGG16's conv5_3 <c>[N, (S/16)², 512]</c>, laid out as the grid
/// extractors' rows (<see cref="ResNet50SpatialFeatureExtractor"/>, <see cref="Vgg16SpatialFeatureExtractor"/>).
/// Its state_dict is the torchvision network's under <c>network.</c>.
/// </summary>
public sealed class PretrainedCnnEncoder : ImageEncoder
{
    /// <summary>The <see cref="ImageEncoderDescription.Kind"/> of this encoder.</summary>
    public const string Kind = "pretrained-cnn";

    private readonly torch.nn.Module<Tensor, Tensor> network;
    private readonly torch.nn.Module[] frozen;

    private PretrainedCnnEncoder(torch.nn.Module<Tensor, Tensor> network, PretrainedCnnEncoderOptions options) : base(nameof(PretrainedCnnEncoder))
    {
        Options = options;
        this.network = this.Register("network", network);
        frozen = Blocks(network).Take(PretrainedCnnEncoderOptions.BlockCount - options.TrainableBlocks).SelectMany(block => block).ToArray();
        foreach (var module in frozen)
            foreach (var parameter in module.parameters())
                parameter.requires_grad = false;
        train(training);
    }

    /// <summary>Keeps the state_dict names above when the caption model registers this encoder (TorchSharp would add its fields under their C# names).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The network, the trainable blocks and the input size.</summary>
    public PretrainedCnnEncoderOptions Options { get; }

    /// <inheritdoc />
    public override int InputDimension => 3 * Options.InputSize * Options.InputSize;

    /// <inheritdoc />
    public override int Cells => Options.GridSize * Options.GridSize;

    /// <inheritdoc />
    public override int Channels => Options.Network == EncoderNetwork.ResNet50 ? ResNet50SpatialFeatureExtractor.Channels : Vgg16SpatialFeatureExtractor.Channels;

    /// <inheritdoc />
    public override ImageEncoderDescription Description => new(Kind, new Dictionary<string, string>
    {
        [EncoderSettings.Network] = Options.Network.ToString(),
        [EncoderSettings.TrainableBlocks] = Options.TrainableBlocks.ToString(CultureInfo.InvariantCulture),
        [EncoderSettings.InputSize] = Options.InputSize.ToString(CultureInfo.InvariantCulture),
    });

    /// <summary>
    /// The encoder over the network with <paramref name="weights"/>: torchvision's pretrained file (from the hub
    /// cache or a given <c>.pth</c>/<c>.safetensors</c>, the head it cuts off skipped), or seeded random weights
    /// for tests and demos (logged as a warning).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The options do not fit together (<see cref="PretrainedCnnEncoderOptions.Validate"/>).</exception>
    /// <exception cref="PretrainedWeightsNotFoundException">The pretrained file is not in the hub cache; the message says where it is expected.</exception>
    /// <exception cref="StateDictMismatchException">The file's keys or shapes are not the network's; all problems are listed.</exception>
    public static PretrainedCnnEncoder Create(PretrainedCnnEncoderOptions? options, CnnWeights weights, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var validated = (options ?? new PretrainedCnnEncoderOptions()).Validate();
        return Adopt(validated.Network == EncoderNetwork.ResNet50
            ? ResNet50SpatialFeatureExtractor.Recipe.FromWeights(weights, logger, (network, _) => (torch.nn.Module<Tensor, Tensor>)network)
            : Vgg16SpatialFeatureExtractor.Recipe.FromWeights(weights, logger, (network, _) => (torch.nn.Module<Tensor, Tensor>)network), validated);
    }

    /// <summary>The encoder with PyTorch's default initialisation, for a saved model whose state then replaces it.</summary>
    internal static PretrainedCnnEncoder Untrained(PretrainedCnnEncoderOptions options)
    {
        var validated = options.Validate();
        return Adopt(validated.Network == EncoderNetwork.ResNet50 ? new ResNet50(ResNet50Output.Layer4) : new Vgg16(Vgg16Output.Conv5_3), validated);
    }

    /// <summary>
    /// Sets training mode as every module does, then puts the frozen blocks back in eval mode (and the whole network
    /// when nothing trains).
    /// </summary>
    public override void train(bool on = true)
    {
        base.train(on);
        if (!on) return;
        foreach (var module in frozen) module.eval();
        if (Options.TrainableBlocks == 0) network.eval();
    }

    /// <summary>Maps pixel rows <c>[N, 3·S·S]</c> (<see cref="PixelFeatureExtractor"/>'s, ImageNet-normalised) to the grid <c>[N, cells, channels]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        // A frozen network needs no graph.
        using var noGrad = Options.TrainableBlocks == 0 ? torch.no_grad() : null;
        var images = EncoderInput.Images(input, InputDimension, Options.InputSize, $"{Kind} {Options.Network}");
        return FeatureGrid.Cells(network.forward(images)).MoveToOuterDisposeScope();
    }

    private static PretrainedCnnEncoder Adopt(torch.nn.Module<Tensor, Tensor> network, PretrainedCnnEncoderOptions options)
    {
        try
        {
            return new PretrainedCnnEncoder(network, options);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    // The five blocks of either network, first to last; parameterless modules (ReLU, max-pool) go with their block.
    private static IEnumerable<torch.nn.Module[]> Blocks(torch.nn.Module network)
    {
        switch (network)
        {
            case ResNet50 resnet:
                return [[resnet.conv1, resnet.bn1], [resnet.layer1], [resnet.layer2], [resnet.layer3], [resnet.layer4]];
            case Vgg16 vgg:
                var blocks = new List<torch.nn.Module[]>();
                var block = new List<torch.nn.Module>();
                foreach (var module in vgg.features.children())
                {
                    block.Add(module);
                    if (module is not MaxPool2d) continue;
                    blocks.Add([.. block]);
                    block.Clear();
                }
                blocks.Add([.. block]);
                return blocks;
            default:
                throw new ArgumentException($"no blocks are known for {network.GetType().Name}", nameof(network));
        }
    }
}

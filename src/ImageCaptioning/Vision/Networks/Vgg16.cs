using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Vision;

/// <summary>What a <see cref="Vgg16"/> computes.</summary>
public enum Vgg16Output
{
    /// <summary>The full torchvision network: 1000 ImageNet logits.</summary>
    Logits,

    /// <summary>
    /// The captioning recipe's network: <c>classifier[6]</c> replaced by <c>Identity</c>, giving fc7 (4096 values
    /// after ReLU and, in eval mode, an inactive Dropout).
    /// </summary>
    Fc7,

    /// <summary>
    /// <c>features[:30]</c>: conv5_3 after its ReLU, before the last max-pool; <c>[B, 512, H/16, W/16]</c>
    /// (14×14 for 224×224 inputs).
    /// </summary>
    Conv5_3,
}

/// <summary>
/// torchvision's <c>vgg16</c> (configuration D, no batch norm) with its exact state_dict keys:
/// <c>features.{0,2,5,…,28}.weight/bias</c>, <c>classifier.{0,3,6}.weight/bias</c>. The <see cref="Vgg16Output"/>
/// decides where the network stops; the truncated variants simply lack the later keys.
/// </summary>
public sealed class Vgg16 : torch.nn.Module<Tensor, Tensor>
{
    /// <summary>Channels of each 3×3 convolution; 0 marks a 2×2 max-pool (torchvision's <c>cfgs["D"]</c>).</summary>
    private static readonly int[] Configuration = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    /// <summary>Number of <c>features</c> layers kept by <see cref="Vgg16Output.Conv5_3"/> (through conv5_3's ReLU).</summary>
    internal const int Conv5_3LayerCount = 30;

    /// <summary>Builds the network with PyTorch's default initialisation (seed it with <c>torch.manual_seed</c>).</summary>
    public Vgg16(Vgg16Output output = Vgg16Output.Logits, int numClasses = 1000) : base(nameof(Vgg16))
    {
        TorchRuntime.EnsureLoaded();
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        Output = output;
        var layers = new List<torch.nn.Module<Tensor, Tensor>>();
        var channels = 3;
        foreach (var width in Configuration)
        {
            if (width == 0)
            {
                layers.Add(torch.nn.MaxPool2d(2, 2));
                continue;
            }

            layers.Add(torch.nn.Conv2d(channels, width, 3, padding: 1));
            layers.Add(torch.nn.ReLU(inplace: true));
            channels = width;
        }

        if (output == Vgg16Output.Conv5_3) layers.RemoveRange(Conv5_3LayerCount, layers.Count - Conv5_3LayerCount);
        features = this.Register("features", torch.nn.Sequential(layers));
        if (output == Vgg16Output.Conv5_3) return;

        avgpool = this.Register("avgpool", torch.nn.AdaptiveAvgPool2d(7));
        classifier = this.Register("classifier", torch.nn.Sequential(
            torch.nn.Linear(512 * 7 * 7, 4096),
            torch.nn.ReLU(inplace: true),
            torch.nn.Dropout(),
            torch.nn.Linear(4096, 4096),
            torch.nn.ReLU(inplace: true),
            torch.nn.Dropout(),
            output == Vgg16Output.Fc7 ? torch.nn.Identity() : torch.nn.Linear(4096, numClasses)));
    }

    /// <summary>Where the network stops.</summary>
    public Vgg16Output Output { get; }

    /// <summary>
    /// Keeps the torchvision names above when this network becomes a child of another module (TorchSharp would add
    /// its properties' backing fields as children again, duplicating the state_dict's keys).
    /// </summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The size of the <see cref="Vgg16Output.Conv5_3"/> map for an input of <paramref name="height"/> × <paramref name="width"/>: four 2×2 max-pools, each rounding down.</summary>
    internal static (int Height, int Width) Conv5_3Grid(int height, int width) => (height >> 4, width >> 4);

    /// <summary>The convolutional trunk (<c>features.*</c>).</summary>
    public Sequential features { get; }

    /// <summary>The 7×7 adaptive average pool; null for <see cref="Vgg16Output.Conv5_3"/>.</summary>
    public AdaptiveAvgPool2d? avgpool { get; }

    /// <summary>The fully connected head (<c>classifier.*</c>); null for <see cref="Vgg16Output.Conv5_3"/>.</summary>
    public Sequential? classifier { get; }

    /// <summary>
    /// Maps normalised images <c>[B, 3, H, W]</c> to logits <c>[B, classes]</c>, fc7 <c>[B, 4096]</c> or conv5_3
    /// <c>[B, 512, H/16, W/16]</c>.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = features.forward(input);
        if (avgpool is null || classifier is null) return x.MoveToOuterDisposeScope();
        return classifier.forward(avgpool.forward(x).flatten(1)).MoveToOuterDisposeScope();
    }
}

using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Vision;

/// <summary>What a <see cref="ResNet50"/> computes.</summary>
public enum ResNet50Output
{
    /// <summary>The full torchvision network: ImageNet logits from <c>fc</c>.</summary>
    Logits,

    /// <summary>Without <c>fc</c>: the 2048 globally average-pooled values.</summary>
    Pooled,

    /// <summary>
    /// The last block's map before the pool: <c>layer4</c>'s output <c>[B, 2048, H', W']</c>, each side halved (rounding
    /// up) five times (7×7 for 224×224 inputs, 2×2 for 64×64).
    /// </summary>
    Layer4,
}

/// <summary>
/// torchvision's <c>resnet50</c> with its exact state_dict keys (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1.0.conv1</c> … <c>layer4.2.bn3</c>, <c>layerN.0.downsample.0/1</c>, <c>fc</c>). The stride of a
/// down-sampling block sits on its 3×3 convolution, as in torchvision (ResNet v1.5).
/// </summary>
public sealed class ResNet50 : torch.nn.Module<Tensor, Tensor>
{
    /// <summary>Channels of the pooled output (the input of <c>fc</c>).</summary>
    public const int PooledChannels = 2048;

    /// <summary>
    /// Builds the network with PyTorch's default initialisation. Without <paramref name="includeClassifier"/> the
    /// <c>fc</c> layer is left out and <see cref="forward"/> returns the 2048 pooled values.
    /// </summary>
    public ResNet50(bool includeClassifier = true, int numClasses = 1000)
        : this(includeClassifier ? ResNet50Output.Logits : ResNet50Output.Pooled, numClasses)
    {
    }

    /// <summary>
    /// Builds the network that stops at <paramref name="output"/>, with PyTorch's default initialisation; only
    /// <see cref="ResNet50Output.Logits"/> has the <c>fc</c> keys.
    /// </summary>
    public ResNet50(ResNet50Output output, int numClasses = 1000) : base(nameof(ResNet50))
    {
        TorchRuntime.EnsureLoaded();
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        if (!Enum.IsDefined(output)) throw new ArgumentOutOfRangeException(nameof(output), output, "not a ResNet50Output");
        Output = output;
        conv1 = this.Register("conv1", torch.nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false));
        bn1 = this.Register("bn1", torch.nn.BatchNorm2d(64));
        relu = this.Register("relu", torch.nn.ReLU(inplace: true));
        maxpool = this.Register("maxpool", torch.nn.MaxPool2d(3, 2, 1));
        var inplanes = 64;
        layer1 = this.Register("layer1", MakeLayer(ref inplanes, 64, 3, 1));
        layer2 = this.Register("layer2", MakeLayer(ref inplanes, 128, 4, 2));
        layer3 = this.Register("layer3", MakeLayer(ref inplanes, 256, 6, 2));
        layer4 = this.Register("layer4", MakeLayer(ref inplanes, 512, 3, 2));
        avgpool = this.Register("avgpool", torch.nn.AdaptiveAvgPool2d(1));
        if (output == ResNet50Output.Logits) fc = this.Register("fc", torch.nn.Linear(PooledChannels, numClasses));
    }

    /// <summary>Where the network stops.</summary>
    public ResNet50Output Output { get; }

    /// <summary>
    /// Keeps the torchvision names above when this network becomes a child of another module (TorchSharp would add
    /// its properties' backing fields as children again, duplicating the state_dict's keys).
    /// </summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The 7×7 stem convolution.</summary>
    public Conv2d conv1 { get; }

    /// <summary>The stem's batch norm.</summary>
    public BatchNorm2d bn1 { get; }

    /// <summary>The stem's ReLU.</summary>
    public ReLU relu { get; }

    /// <summary>The stem's 3×3 max-pool.</summary>
    public MaxPool2d maxpool { get; }

    /// <summary>Three bottlenecks, 256 channels out.</summary>
    public Sequential layer1 { get; }

    /// <summary>Four bottlenecks, 512 channels out, stride 2.</summary>
    public Sequential layer2 { get; }

    /// <summary>Six bottlenecks, 1024 channels out, stride 2.</summary>
    public Sequential layer3 { get; }

    /// <summary>Three bottlenecks, 2048 channels out, stride 2.</summary>
    public Sequential layer4 { get; }

    /// <summary>The global average pool.</summary>
    public AdaptiveAvgPool2d avgpool { get; }

    /// <summary>The ImageNet classifier; null unless <see cref="Output"/> is <see cref="ResNet50Output.Logits"/>.</summary>
    public Linear? fc { get; }

    /// <summary>
    /// Maps normalised images <c>[B, 3, H, W]</c> to logits, to pooled features <c>[B, 2048]</c>, or to the
    /// <c>layer4</c> map <c>[B, 2048, H', W']</c>, as <see cref="Output"/> says.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = maxpool.forward(relu.forward(ConvBatchNorm.Forward(conv1, bn1, input)));
        x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
        if (Output == ResNet50Output.Layer4) return x.MoveToOuterDisposeScope();
        var pooled = avgpool.forward(x).flatten(1);
        return (fc is null ? pooled : fc.forward(pooled)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The size of the <see cref="ResNet50Output.Layer4"/> map for an input of <paramref name="height"/> ×
    /// <paramref name="width"/>: the stem's convolution and max-pool and the first 3×3 convolutions of
    /// <c>layer2</c>–<c>layer4</c> each map a side n to ⌊(n − 1) / 2⌋ + 1.
    /// </summary>
    internal static (int Height, int Width) Layer4Grid(int height, int width)
    {
        for (var i = 0; i < 5; i++) (height, width) = ((height - 1) / 2 + 1, (width - 1) / 2 + 1);
        return (height, width);
    }

    private static Sequential MakeLayer(ref int inplanes, int planes, int blocks, int stride)
    {
        Sequential? downsample = null;
        if (stride != 1 || inplanes != planes * Bottleneck.Expansion)
        {
            downsample = torch.nn.Sequential(
                torch.nn.Conv2d(inplanes, planes * Bottleneck.Expansion, 1, stride: stride, bias: false),
                torch.nn.BatchNorm2d(planes * Bottleneck.Expansion));
        }

        var layers = new List<torch.nn.Module<Tensor, Tensor>> { new Bottleneck(inplanes, planes, stride, downsample) };
        inplanes = planes * Bottleneck.Expansion;
        for (var i = 1; i < blocks; i++) layers.Add(new Bottleneck(inplanes, planes));
        return torch.nn.Sequential(layers);
    }
}

/// <summary>torchvision's ResNet <c>Bottleneck</c>: 1×1 reduce, 3×3 (carrying the stride), 1×1 expand, plus the shortcut.</summary>
public sealed class Bottleneck : torch.nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels per <c>planes</c>.</summary>
    public const int Expansion = 4;

    /// <summary>Creates the block; <paramref name="downsample"/> adapts the shortcut when the shape changes.</summary>
    public Bottleneck(long inplanes, long planes, long stride = 1, Sequential? downsample = null) : base(nameof(Bottleneck))
    {
        conv1 = this.Register("conv1", torch.nn.Conv2d(inplanes, planes, 1, bias: false));
        bn1 = this.Register("bn1", torch.nn.BatchNorm2d(planes));
        conv2 = this.Register("conv2", torch.nn.Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false));
        bn2 = this.Register("bn2", torch.nn.BatchNorm2d(planes));
        conv3 = this.Register("conv3", torch.nn.Conv2d(planes, planes * Expansion, 1, bias: false));
        bn3 = this.Register("bn3", torch.nn.BatchNorm2d(planes * Expansion));
        relu = this.Register("relu", torch.nn.ReLU(inplace: true));
        if (downsample is not null) this.downsample = this.Register("downsample", downsample);
    }

    /// <summary>Keeps the torchvision names above, as <see cref="ResNet50"/> does.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>1×1 reduction.</summary>
    public Conv2d conv1 { get; }

    /// <summary>Batch norm after <see cref="conv1"/>.</summary>
    public BatchNorm2d bn1 { get; }

    /// <summary>3×3 convolution with the block's stride.</summary>
    public Conv2d conv2 { get; }

    /// <summary>Batch norm after <see cref="conv2"/>.</summary>
    public BatchNorm2d bn2 { get; }

    /// <summary>1×1 expansion.</summary>
    public Conv2d conv3 { get; }

    /// <summary>Batch norm after <see cref="conv3"/>.</summary>
    public BatchNorm2d bn3 { get; }

    /// <summary>The shared ReLU.</summary>
    public ReLU relu { get; }

    /// <summary>The shortcut's 1×1 convolution and batch norm, or null for an identity shortcut.</summary>
    public Sequential? downsample { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = relu.forward(ConvBatchNorm.Forward(conv1, bn1, input));
        x = relu.forward(ConvBatchNorm.Forward(conv2, bn2, x));
        x = ConvBatchNorm.Forward(conv3, bn3, x);
        var identity = downsample is null ? input : ConvBatchNorm.Forward((Conv2d)downsample[0], (BatchNorm2d)downsample[1], input);
        // In place, as torchvision's `out += identity`: a fresh sum would be one more activation-sized allocation
        // (page faults included) per block.
        return relu.forward(x.add_(identity)).MoveToOuterDisposeScope();
    }
}

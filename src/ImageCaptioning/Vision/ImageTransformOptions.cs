namespace ImageCaptioning.Vision;

/// <summary>
/// A torchvision eval transform: optional <see cref="Resize"/>, optional <see cref="CenterCrop"/>, then
/// <c>ToTensor</c> (float in [0, 1]) and <c>Normalize(Mean, Std)</c>.
/// </summary>
public sealed record ImageTransformOptions
{
    /// <summary>ImageNet channel means (R, G, B), as torchvision's pretrained models expect.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = Array.AsReadOnly([0.485f, 0.456f, 0.406f]);

    /// <summary>ImageNet channel standard deviations (R, G, B).</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = Array.AsReadOnly([0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The captioning recipe's transform: <c>Resize((224, 224))</c>, <c>ToTensor()</c>, ImageNet
    /// <c>Normalize</c>. The aspect ratio is not kept.
    /// </summary>
    public static ImageTransformOptions Recipe224 { get; } = new() { Resize = ImageResize.To(224, 224) };

    /// <summary>
    /// torchvision's standard ImageNet eval transform: <c>Resize(256)</c>, <c>CenterCrop(224)</c>,
    /// <c>ToTensor()</c>, ImageNet <c>Normalize</c>.
    /// </summary>
    public static ImageTransformOptions Standard256Crop224 { get; } = new()
    {
        Resize = ImageResize.ShorterSideTo(256),
        CenterCrop = new ImageSize(224, 224),
    };

    /// <summary>The resize step, or null for none.</summary>
    public ImageResize? Resize { get; init; }

    /// <summary>
    /// The centre crop, or null for none. Like torchvision, an image smaller than the crop is first padded with
    /// zeros on both sides.
    /// </summary>
    public ImageSize? CenterCrop
    {
        get;
        init => field = value?.Validated(nameof(CenterCrop));
    }

    /// <summary>Per-channel (R, G, B) means subtracted after scaling to [0, 1].</summary>
    public IReadOnlyList<float> Mean
    {
        get;
        init => field = CheckChannels(value, nameof(Mean), requirePositive: false);
    } = ImageNetMean;

    /// <summary>Per-channel (R, G, B) standard deviations divided by after subtracting the mean; all positive.</summary>
    public IReadOnlyList<float> Std
    {
        get;
        init => field = CheckChannels(value, nameof(Std), requirePositive: true);
    } = ImageNetStd;

    /// <summary>The size every output has regardless of input, or null when it depends on the input's aspect ratio.</summary>
    public ImageSize? FixedOutputSize =>
        CenterCrop ?? (Resize is { Mode: ImageResizeMode.Exact } exact ? exact.Size : null);

    /// <summary>The output size for an input of <paramref name="input"/> pixels.</summary>
    public ImageSize GetOutputSize(ImageSize input) => CenterCrop ?? Resize?.GetOutputSize(input) ?? input.Validated(nameof(input));

    private static IReadOnlyList<float> CheckChannels(IReadOnlyList<float> values, string name, bool requirePositive)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count != 3)
            throw new ArgumentException($"{name} needs one value per RGB channel (3), got {values.Count}", name);
        foreach (var value in values)
        {
            if (!float.IsFinite(value) || (requirePositive && value <= 0))
                throw new ArgumentOutOfRangeException(name, value, requirePositive ? $"{name} values must be positive and finite" : $"{name} values must be finite");
        }

        return Array.AsReadOnly(values.ToArray());
    }
}

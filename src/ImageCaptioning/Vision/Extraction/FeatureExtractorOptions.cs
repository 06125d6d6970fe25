using System.Globalization;

namespace ImageCaptioning.Vision;

/// <summary>How a feature extractor prepares images and where it runs; the images are decoded ahead of the network.</summary>
public sealed record FeatureExtractorOptions : ImageLoadingOptions
{
    /// <summary>
    /// The eval transform applied to every image. Default: the captioning recipe's
    /// <see cref="ImageTransformOptions.Recipe224"/>. It must give a fixed output size to batch images.
    /// </summary>
    public ImageTransformOptions Transform
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Transform));
            if (value.FixedOutputSize is null)
                throw new ArgumentException("the transform must give a fixed output size (an exact Resize or a CenterCrop) to batch images", nameof(Transform));
            field = value;
        }
    } = ImageTransformOptions.Recipe224;

    /// <summary>
    /// Where the network runs. Null (the default) picks the first CUDA GPU when one is present and the CPU
    /// otherwise; see <see cref="ResolveDevice"/>.
    /// </summary>
    public Device? Device { get; init; }

    /// <summary>Images per forward pass. Default 16.</summary>
    public int BatchSize
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = 16;

    /// <summary>The device the network runs on: <see cref="Device"/>, or CUDA when available, else the CPU.</summary>
    public Device ResolveDevice() => Device ?? (torch.cuda.is_available() ? torch.CUDA : torch.CPU);

    /// <summary>
    /// A stable text for the preprocessing, e.g. <c>Resize(224x224) ToTensor Normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])</c>.
    /// Feature stores record it so that features made with another preprocessing are not mixed in.
    /// </summary>
    public string DescribePreprocessing()
    {
        var parts = new List<string>();
        if (Transform.Resize is { } resize)
        {
            parts.Add(resize.Mode == ImageResizeMode.Exact
                ? $"Resize({resize.Size})"
                : $"Resize({resize.ShorterSideLength}{(resize.MaxSize is { } max ? $", max_size={max}" : "")})");
        }

        if (Transform.CenterCrop is { } crop) parts.Add($"CenterCrop({crop})");
        parts.Add("ToTensor");
        parts.Add($"Normalize(mean={Format(Transform.Mean)}, std={Format(Transform.Std)})");
        return string.Join(' ', parts);

        static string Format(IReadOnlyList<float> values) =>
            "[" + string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
    }
}

using ImageCaptioning.Vision;

namespace ImageCaptioning.Pretrained;

/// <summary>PIL's resampling filters by the numbers preprocessor_config.json stores for <c>resample</c>.</summary>
internal enum PilFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}

/// <summary>
/// The image processor of a checkpoint, from preprocessor_config.json, as Hugging Face's <c>ViTImageProcessor</c> and
/// <c>BlipImageProcessor</c> run it on an RGB image: resize to <c>size</c> with PIL's filter (the library's PIL-exact
/// resampling, so the bytes are PIL's), then <c>x * rescale_factor</c> computed in float64 and stored as float32 (numpy's
/// promotion in <c>rescale</c>), then <c>(x - mean) / std</c> in float32, channels first.
/// </summary>
internal sealed class PretrainedImageProcessor
{
    private PretrainedImageProcessor(ImageSize? size, PilFilter filter, double? rescale, float[]? mean, float[]? std)
    {
        (Size, Filter, RescaleFactor, Mean, Std) = (size, filter, rescale, mean, std);
    }

    /// <summary>The output size, or null when the processor does not resize.</summary>
    public ImageSize? Size { get; }

    /// <summary>The resampling filter.</summary>
    public PilFilter Filter { get; }

    /// <summary>The factor the pixel values are multiplied by, or null when they are not rescaled.</summary>
    public double? RescaleFactor { get; }

    /// <summary>Per-channel means, or null when the processor does not normalize.</summary>
    public IReadOnlyList<float>? Mean { get; }

    /// <summary>Per-channel standard deviations, or null when the processor does not normalize.</summary>
    public IReadOnlyList<float>? Std { get; }

    /// <summary>
    /// Reads the processor's settings. <paramref name="defaultMean"/>, <paramref name="defaultStd"/> and
    /// <paramref name="defaultFilter"/> are the processor class's own defaults, used where the file omits a key.
    /// </summary>
    /// <exception cref="InvalidDataException">A setting is malformed or unsupported; the message names the file and key.</exception>
    public static PretrainedImageProcessor FromConfig(HubJson config, IReadOnlyList<float> defaultMean, IReadOnlyList<float> defaultStd,
        PilFilter defaultFilter, ImageSize defaultSize)
    {
        ArgumentNullException.ThrowIfNull(config);
        ImageSize? size = null;
        if (config.Bool("do_resize", true)) size = ReadSize(config, defaultSize);
        var filter = (PilFilter)config.Int("resample", (int)defaultFilter);
        if (size is not null && filter is not (PilFilter.Bilinear or PilFilter.Bicubic))
            throw config.Invalid("resample", $"is {(int)filter} ({(Enum.IsDefined(filter) ? filter.ToString() : "not a PIL filter")}); the library resamples PIL-exactly with bilinear (2) and bicubic (3) only");
        double? rescale = config.Bool("do_rescale", true) ? config.Double("rescale_factor", 1 / 255.0) : null;
        float[]? mean = null, std = null;
        if (config.Bool("do_normalize", true))
        {
            mean = Channels(config, "image_mean", defaultMean, positive: false);
            std = Channels(config, "image_std", defaultStd, positive: true);
        }
        return new PretrainedImageProcessor(size, filter, rescale, mean, std);
    }

    /// <summary>The pixel values of <paramref name="images"/>: float32 [B, 3, H, W] on <paramref name="device"/>.</summary>
    /// <exception cref="ArgumentException">The processor does not resize and the images differ in size.</exception>
    public Tensor Apply(IReadOnlyList<RgbImage> images, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image", nameof(images));
        using var scope = torch.NewDisposeScope();
        var rows = new Tensor[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new ArgumentException($"image {i} is null", nameof(images));
            RgbImage? resized = null;
            try
            {
                if (Size is { } size && (size.Width != image.Width || size.Height != image.Height))
                    image = resized = Filter == PilFilter.Bicubic ? PilResample.Bicubic(image, size) : PilResample.Bilinear(image, size);
                if (i > 0 && (image.Height != rows[0].size(0) || image.Width != rows[0].size(1)))
                    throw new ArgumentException($"images of a batch must have one size when the processor does not resize: image {i} ({image.Source ?? "unnamed"}) is {image.Width}x{image.Height}", nameof(images));
                rows[i] = TensorSpan.Create(image.Pixels, [image.Height, image.Width, 3], torch.CPU);
            }
            finally
            {
                resized?.Dispose();
            }
        }
        var pixels = torch.stack(rows).to(ScalarType.Float64);
        // numpy's rescale promotes to float64 and casts the product back to float32; normalize then runs in float32.
        pixels = (RescaleFactor is { } factor ? pixels.mul(factor) : pixels).to(ScalarType.Float32);
        if (Mean is not null && Std is not null)
        {
            var mean = TensorSpan.Create(Mean.ToArray(), [3], torch.CPU);
            var std = TensorSpan.Create(Std.ToArray(), [3], torch.CPU);
            pixels = pixels.sub(mean).div(std);
        }
        return pixels.permute(0, 3, 1, 2).contiguous().to(device ?? torch.CPU).MoveToOuterDisposeScope();
    }

    private static ImageSize ReadSize(HubJson config, ImageSize fallback)
    {
        if (!config.Has("size")) return fallback;
        if (config.Value("size") is not System.Text.Json.Nodes.JsonObject)
        {
            var square = config.Int("size");
            return square >= 1 ? new ImageSize(square, square) : throw config.Invalid("size", $"is {square}; it must be positive");
        }
        var sizes = config.Section("size");
        if (!sizes.Has("height") || !sizes.Has("width"))
            throw config.Invalid("size", "must be an integer or {\"height\": h, \"width\": w}; a shortest-edge resize is not what these processors do");
        return new ImageSize(sizes.IntAtLeast("width", 1), sizes.IntAtLeast("height", 1));
    }

    private static float[] Channels(HubJson config, string key, IReadOnlyList<float> fallback, bool positive)
    {
        var values = config.Doubles(key)?.Select(v => (float)v).ToArray() ?? fallback.ToArray();
        if (values.Length == 1) values = [values[0], values[0], values[0]];
        if (values.Length != 3) throw config.Invalid(key, $"has {values.Length} values; it needs one per RGB channel (3)");
        if (positive && values.Any(v => !(v > 0))) throw config.Invalid(key, "must hold positive values");
        return values;
    }
}

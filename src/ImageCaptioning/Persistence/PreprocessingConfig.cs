using ImageCaptioning.Vision;

namespace ImageCaptioning.Persistence;

/// <summary>The <c>featureExtractor.preprocessing</c> section of config.json: an <see cref="ImageTransformOptions"/>, flat.</summary>
internal sealed class PreprocessingConfig
{
    public ImageResizeMode? ResizeMode { get; set; }
    public int? ResizeWidth { get; set; }
    public int? ResizeHeight { get; set; }
    public int? ResizeShorterSide { get; set; }
    public int? ResizeMaxSize { get; set; }
    public int? CropWidth { get; set; }
    public int? CropHeight { get; set; }
    public float[] Mean { get; set; } = [];
    public float[] Std { get; set; } = [];

    public static PreprocessingConfig From(ImageTransformOptions options) => new()
    {
        ResizeMode = options.Resize?.Mode,
        ResizeWidth = options.Resize is { Mode: ImageResizeMode.Exact } exact ? exact.Size.Width : null,
        ResizeHeight = options.Resize is { Mode: ImageResizeMode.Exact } exactHeight ? exactHeight.Size.Height : null,
        ResizeShorterSide = options.Resize is { Mode: ImageResizeMode.ShorterSide } shorter ? shorter.ShorterSideLength : null,
        ResizeMaxSize = options.Resize?.MaxSize,
        CropWidth = options.CenterCrop?.Width,
        CropHeight = options.CenterCrop?.Height,
        Mean = [.. options.Mean],
        Std = [.. options.Std],
    };

    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public ImageTransformOptions ToOptions()
    {
        var resize = ResizeMode switch
        {
            null => null,
            ImageResizeMode.Exact => ImageResize.To(ResizeWidth ?? 0, ResizeHeight ?? 0),
            ImageResizeMode.ShorterSide => ImageResize.ShorterSideTo(ResizeShorterSide ?? 0, ResizeMaxSize),
            var mode => throw new ArgumentOutOfRangeException(nameof(ResizeMode), mode, "unknown resize mode"),
        };
        return new ImageTransformOptions
        {
            Resize = resize,
            CenterCrop = CropWidth is { } width && CropHeight is { } height ? new ImageSize(width, height) : null,
            Mean = Mean,
            Std = Std,
        };
    }
}

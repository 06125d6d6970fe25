using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pretrained;

/// <summary>How a pretrained captioner is loaded and batches its work; each value is checked as it is set.</summary>
public sealed record PretrainedCaptionerOptions
{
    /// <summary>The device the model runs on (the CPU by default).</summary>
    public Device? Device { get; init; }

    /// <summary>Images decoded, preprocessed and captioned together.</summary>
    public int BatchSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 16;

    /// <summary>How image files are decoded (pixel limit, EXIF orientation).</summary>
    public ImageDecoderOptions Decoder { get; init => field = OptionGuard.NotNull(value); } = ImageDecoderOptions.Default;

    /// <summary>Where the loader reports the unknown keys of the weights file; none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}

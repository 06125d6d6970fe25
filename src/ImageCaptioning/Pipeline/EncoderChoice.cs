using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// The trainable encoder a pipeline puts inside its model: the images' pixels are cached (decoded and transformed
/// once) and the encoder computes their features in every training step.
/// </summary>
internal abstract record EncoderChoice(int InputSize)
{
    /// <summary>A fresh encoder for one training run (the model takes ownership).</summary>
    public abstract ImageEncoder Create(ILogger logger);

    /// <summary>A small CNN trained from scratch.</summary>
    public sealed record SmallCnn(SmallCnnEncoderOptions Options) : EncoderChoice(Options.InputSize)
    {
        public override ImageEncoder Create(ILogger logger) => new SmallCnnEncoder(Options);
    }

    /// <summary>ResNet-50 or VGG16 with its last blocks fine-tuned.</summary>
    public sealed record Pretrained(PretrainedCnnEncoderOptions Options, CnnWeights Weights) : EncoderChoice(Options.InputSize)
    {
        public override ImageEncoder Create(ILogger logger) => PretrainedCnnEncoder.Create(Options, Weights, logger);
    }

    /// <summary>The pixel rows the encoder reads: the extractor options' transform, resized to the encoder's input.</summary>
    public PixelFeatureExtractor PixelExtractor(FeatureExtractorOptions options, ILogger logger) =>
        new(options with { Transform = options.Transform with { Resize = ImageResize.To(InputSize, InputSize), CenterCrop = null } }, logger);
}

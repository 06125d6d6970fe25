using ImageCaptioning.Modeling;

namespace ImageCaptioning.Encoders;

/// <summary>Rebuilds the library's encoders from the <see cref="ImageEncoderDescription"/> a saved model records.</summary>
public static class ImageEncoders
{
    /// <summary>The kinds <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Kinds { get; } = Array.AsReadOnly([SmallCnnEncoder.Kind, PretrainedCnnEncoder.Kind]);

    /// <summary>
    /// The encoder <paramref name="description"/> describes, with PyTorch's default initialisation and the
    /// description's frozen blocks: load the saved model's state into it. Nothing is read from disk.
    /// </summary>
    /// <exception cref="ArgumentException">The kind is unknown, or a setting is missing, unknown or refused; the message names it.</exception>
    public static ImageEncoder Create(ImageEncoderDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        switch (description.Kind)
        {
            case SmallCnnEncoder.Kind:
            {
                var settings = new EncoderSettings(description, EncoderSettings.InputSize, EncoderSettings.Widths,
                    EncoderSettings.ConvolutionsPerStage, EncoderSettings.BatchNorm, EncoderSettings.Downsampling);
                return new SmallCnnEncoder(settings.Options(s => new SmallCnnEncoderOptions
                {
                    InputSize = s.Int(EncoderSettings.InputSize),
                    Widths = s.Ints(EncoderSettings.Widths),
                    ConvolutionsPerStage = s.Int(EncoderSettings.ConvolutionsPerStage),
                    BatchNorm = s.Bool(EncoderSettings.BatchNorm),
                    Downsampling = s.Enum<SmallCnnDownsampling>(EncoderSettings.Downsampling),
                }.Validate()));
            }
            case PretrainedCnnEncoder.Kind:
            {
                var settings = new EncoderSettings(description, EncoderSettings.Network, EncoderSettings.TrainableBlocks, EncoderSettings.InputSize);
                return PretrainedCnnEncoder.Untrained(settings.Options(s => new PretrainedCnnEncoderOptions
                {
                    Network = s.Enum<EncoderNetwork>(EncoderSettings.Network),
                    TrainableBlocks = s.Int(EncoderSettings.TrainableBlocks),
                    InputSize = s.Int(EncoderSettings.InputSize),
                }.Validate()));
            }
            default:
                throw new ArgumentException(
                    $"the image encoder kind '{description.Kind}' is unknown; the known kinds are {string.Join(", ", Kinds)}", nameof(description));
        }
    }
}

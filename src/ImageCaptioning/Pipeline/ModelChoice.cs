using ImageCaptioning.Modeling;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// The architecture a pipeline trains and the shape the user gave it; the pipeline fills in what the data decides
/// (vocabulary size, pad id, the features' width or grid) when it builds the model.
/// </summary>
internal abstract record ModelChoice(string Name)
{
    /// <summary>Builds the untrained model for a vocabulary and image rows of <paramref name="rowWidth"/> floats (or the encoder's grids).</summary>
    /// <exception cref="InvalidOperationException">The rows do not fit the architecture's settings; the message says which.</exception>
    public abstract CaptionModel Create(int vocabularySize, int padId, int rowWidth, ImageEncoder? encoder, Device device);

    /// <summary>The Show-and-Tell LSTMs of <see cref="LstmCaptionModel"/>.</summary>
    public sealed record ShowAndTell(CaptionModelOptions Options) : ModelChoice("WithModel(CaptionModelOptions)")
    {
        public override CaptionModel Create(int vocabularySize, int padId, int rowWidth, ImageEncoder? encoder, Device device)
        {
            if (encoder is not null)
                throw new InvalidOperationException("WithEncoder needs a grid model (WithModel(SoftAttentionOptions) or WithModel(TransformerCaptionOptions)): the Show-and-Tell models read cached feature vectors");
            return CaptionModel.Create(Options with { VocabularySize = vocabularySize, FeatureDimension = rowWidth, PadId = padId }, device);
        }
    }

    /// <summary><see cref="SoftAttentionCaptionModel"/>.</summary>
    public sealed record SoftAttention(SoftAttentionOptions Options) : ModelChoice("WithModel(SoftAttentionOptions)")
    {
        public override CaptionModel Create(int vocabularySize, int padId, int rowWidth, ImageEncoder? encoder, Device device)
        {
            var (cells, channels) = Grid(encoder, rowWidth, Options.FeatureDimension, Name);
            return new SoftAttentionCaptionModel(Options with { VocabularySize = vocabularySize, PadId = padId, GridCells = cells, FeatureDimension = channels }, encoder, device);
        }
    }

    /// <summary><see cref="TransformerCaptionModel"/>.</summary>
    public sealed record Transformer(TransformerCaptionOptions Options) : ModelChoice("WithModel(TransformerCaptionOptions)")
    {
        public override CaptionModel Create(int vocabularySize, int padId, int rowWidth, ImageEncoder? encoder, Device device)
        {
            var (cells, channels) = Grid(encoder, rowWidth, Options.FeatureDimension, Name);
            return new TransformerCaptionModel(Options with { VocabularySize = vocabularySize, PadId = padId, GridCells = cells, FeatureDimension = channels }, encoder, device);
        }
    }

    // The encoder decides the grid; cached rows are P cells of the options' channels, channels-last.
    private static (int Cells, int Channels) Grid(ImageEncoder? encoder, int rowWidth, int channels, string choice)
    {
        if (encoder is not null) return (encoder.Cells, encoder.Channels);
        if (rowWidth % channels != 0)
            throw new InvalidOperationException($"the features have {rowWidth} floats per image, which is no whole number of {channels}-channel grid cells: set FeatureDimension in {choice} to the extractor's channels (512 for VGG16 conv5_3, 2048 for ResNet-50's last block)");
        return (rowWidth / channels, channels);
    }
}

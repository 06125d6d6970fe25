namespace ImageCaptioning.Modeling;

/// <summary>
/// Generates captions for a batch of images with a <see cref="CaptionModel"/> and fixed start and end tokens:
/// <see cref="CaptionModel.Decode"/> with those marks.
/// </summary>
public sealed class CaptionDecoder
{
    private readonly CaptionModel model;

    /// <summary>Creates a decoder that starts captions with <paramref name="startId"/> and ends them at <paramref name="endId"/>.</summary>
    public CaptionDecoder(CaptionModel model, int startId, int endId)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        ModelArguments.CheckTokenId(startId, model.VocabularySize);
        ModelArguments.CheckTokenId(endId, model.VocabularySize);
        (StartId, EndId) = (startId, endId);
    }

    /// <summary>The token every caption starts from.</summary>
    public int StartId { get; }

    /// <summary>The token that ends a caption.</summary>
    public int EndId { get; }

    /// <summary>Captions for each row of <paramref name="features"/> [N, <see cref="CaptionModel.InputDimension"/>], in order.</summary>
    public IReadOnlyList<DecodedCaption> Decode(Tensor features, DecodingOptions? options = null) => model.Decode(features, StartId, EndId, options);
}

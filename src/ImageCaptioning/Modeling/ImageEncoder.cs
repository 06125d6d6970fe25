namespace ImageCaptioning.Modeling;

/// <summary>
/// A network that sits inside a <see cref="CaptionModel"/>'s training graph and turns each image row a dataset holds
/// (the transformed pixels of one image, flattened) into the grid of features its decoder reads. Training an encoder
/// means the features are computed per batch instead of cached: its trainable parameters are updated with their own
/// learning rate, and checkpoints and saved models carry its weights under the <c>encoder.</c> prefix.
/// </summary>
public abstract class ImageEncoder : torch.nn.Module<Tensor, Tensor>
{
    /// <summary>Names the module.</summary>
    protected ImageEncoder(string name) : base(name)
    {
    }

    /// <summary>Floats per input row: 3·height·width for pixels.</summary>
    public abstract int InputDimension { get; }

    /// <summary>Grid cells per image, P of the output [N, P, C].</summary>
    public abstract int Cells { get; }

    /// <summary>Channels per cell, C of the output [N, P, C].</summary>
    public abstract int Channels { get; }

    /// <summary>What to save so that the same encoder can be built again (its weights travel with the model's).</summary>
    public abstract ImageEncoderDescription Description { get; }

    /// <summary>The parameters that train; the others (frozen blocks of a pretrained network) keep their weights.</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);
}

/// <summary>
/// How to rebuild an <see cref="ImageEncoder"/>: its <paramref name="Kind"/> (a stable name such as <c>small-cnn</c>)
/// and its settings as string pairs, which a saved captioner's config.json records.
/// </summary>
public sealed record ImageEncoderDescription(string Kind, IReadOnlyDictionary<string, string> Settings);

using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Persistence;

/// <summary>The <c>encoder</c> section of a captioner folder's configuration: an <see cref="ImageEncoderDescription"/>.</summary>
internal sealed class EncoderConfig
{
    public string? Kind { get; set; }
    public Dictionary<string, string>? Settings { get; set; }
}

/// <summary>
/// Which architecture a saved model is and its shape: exactly one of the configuration's <c>model</c> (Show and
/// Tell), <c>softAttention</c> and <c>transformer</c> sections, and the <c>encoder</c> inside it when there is one.
/// </summary>
internal static class ModelConfig
{
    /// <summary>Records <paramref name="model"/>'s architecture and shape in <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException">The model is of an architecture this library cannot rebuild.</exception>
    public static void Write(FolderConfig config, CaptionModel model)
    {
        switch (model)
        {
            case LstmCaptionModel lstm: config.Model = lstm.Options; break;
            case SoftAttentionCaptionModel attention: config.SoftAttention = attention.Options; break;
            case TransformerCaptionModel transformer: config.Transformer = transformer.Options; break;
            default: throw new ArgumentException($"a {model.GetType().Name} cannot be saved: only the library's architectures can be rebuilt from a folder", nameof(model));
        }
        if (model.Encoder is { } encoder)
            config.Encoder = new EncoderConfig { Kind = encoder.Description.Kind, Settings = new Dictionary<string, string>(encoder.Description.Settings) };
    }

    /// <summary>Throws unless <paramref name="config"/> has exactly one architecture section.</summary>
    /// <exception cref="InvalidDataException">None or several; the message names <paramref name="path"/>.</exception>
    public static void CheckOneArchitecture(FolderConfig config, string path)
    {
        var sections = new[] { ("model", config.Model is not null), ("softAttention", config.SoftAttention is not null), ("transformer", config.Transformer is not null) };
        var present = sections.Where(s => s.Item2).Select(s => $"'{s.Item1}'").ToArray();
        if (present.Length == 0) throw new InvalidDataException($"{path}: the configuration lacks 'model' (or 'softAttention' or 'transformer')");
        if (present.Length > 1) throw new InvalidDataException($"{path}: the configuration has {string.Join(" and ", present)}; a model has one architecture");
        if (config.Encoder is not null && config.Model is not null)
            throw new InvalidDataException($"{path}: 'encoder' is set but a Show-and-Tell model ('model') reads cached features only");
    }

    /// <summary>The untrained model <paramref name="config"/> describes, with its options validated.</summary>
    /// <exception cref="InvalidDataException">A setting is invalid; the message names <paramref name="path"/> and the section.</exception>
    public static CaptionModel Create(FolderConfig config, string path)
    {
        if (config.Model is { } lstm)
            return CaptionModel.Create(CaptionerFolder.Invalid(path, "model", lstm.Validate));
        var encoder = config.Encoder is { } e ? CaptionerFolder.Invalid(path, "encoder", () => CreateEncoder(Description(e, path))) : null;
        try
        {
            if (config.SoftAttention is { } attention)
                return new SoftAttentionCaptionModel(CaptionerFolder.Invalid(path, "softAttention", attention.Validate), encoder);
            return new TransformerCaptionModel(CaptionerFolder.Invalid(path, "transformer", config.Transformer!.Validate), encoder);
        }
        catch (ArgumentException ex)
        {
            encoder?.Dispose();
            throw new InvalidDataException($"{path}: 'encoder' does not fit the decoder: {ex.Message}", ex);
        }
        catch
        {
            encoder?.Dispose();
            throw;
        }
    }

    private static ImageEncoderDescription Description(EncoderConfig config, string path) =>
        new(config.Kind ?? throw new InvalidDataException($"{path}: 'encoder' lacks 'kind'"), config.Settings ?? new Dictionary<string, string>());

    private static ImageEncoder CreateEncoder(ImageEncoderDescription description) => ImageEncoders.Create(description);
}

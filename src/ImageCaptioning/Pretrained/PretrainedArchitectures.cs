using ImageCaptioning.Pretrained.Blip;
using ImageCaptioning.Pretrained.VitGpt2;
using ImageCaptioning.Text;

namespace ImageCaptioning.Pretrained;

/// <summary>What an architecture's loader builds from a checkpoint folder.</summary>
/// <param name="Model">The network, filled and in eval mode on the requested device.</param>
/// <param name="Processor">The image processor of preprocessor_config.json.</param>
/// <param name="Tokenizer">The tokenizer whose ids the decoder produces; captions are decoded with it, special tokens skipped.</param>
/// <param name="Generation">The checkpoint's generation defaults.</param>
/// <param name="Report">Unknown and ignored keys of the weights file.</param>
/// <param name="EncodePrompt">Turns a text prompt into the ids that follow the start token, or null when the architecture takes no prompt.</param>
/// <param name="EncodeLabels">Turns a training caption into its label ids (the end token included), or null when the architecture is not fine-tuned yet.</param>
/// <param name="SourceFolder">The checkpoint folder, whose non-weight files a saved fine-tuned folder carries over.</param>
internal sealed record PretrainedArchitectureParts(PretrainedCaptionModel Model, PretrainedImageProcessor Processor, ICaptionTokenizer Tokenizer,
    GenerationSettings Generation, PretrainedLoadReport Report, Func<string, IReadOnlyList<int>>? EncodePrompt = null,
    Func<string, IReadOnlyList<int>>? EncodeLabels = null, string? SourceFolder = null);

/// <summary>An architecture the library loads, named as config.json names it.</summary>
/// <param name="Architecture">The class in config.json's <c>architectures</c> list.</param>
/// <param name="ModelType">config.json's <c>model_type</c>, used when <c>architectures</c> is absent.</param>
/// <param name="Load">Builds the parts from an opened folder onto a device.</param>
internal sealed record PretrainedArchitecture(string Architecture, string ModelType, Func<PretrainedFolder, Device, PretrainedArchitectureParts> Load);

/// <summary>
/// Picks the loader of a checkpoint folder from config.json: the first entry of <c>architectures</c> that is
/// registered, else <c>model_type</c>. A new architecture plugs in with one entry of <see cref="Registered"/>.
/// </summary>
internal static class PretrainedArchitectures
{
    /// <summary>Every architecture the library loads.</summary>
    public static IReadOnlyList<PretrainedArchitecture> Registered { get; } =
    [
        new(VisionEncoderDecoderModel.ArchitectureName, VisionEncoderDecoderModel.ModelType, VisionEncoderDecoderModel.Load),
        new(BlipForConditionalGeneration.ArchitectureName, BlipForConditionalGeneration.ModelType, BlipForConditionalGeneration.Load),
    ];

    /// <summary>The architecture of <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">config.json names no registered architecture; the message names the file, the key and what is supported.</exception>
    public static PretrainedArchitecture Resolve(PretrainedFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var config = folder.Config;
        var supported = string.Join(", ", Registered.Select(a => $"{a.Architecture} (model_type '{a.ModelType}')"));
        if (config.Strings("architectures") is { Count: > 0 } architectures)
            return architectures.Select(name => Registered.FirstOrDefault(a => a.Architecture == name)).OfType<PretrainedArchitecture>().FirstOrDefault()
                ?? throw config.Invalid("architectures", $"is [{string.Join(", ", architectures.Select(a => $"'{a}'"))}], which the library does not load; supported: {supported}");
        var modelType = config.String("model_type")
            ?? throw config.Invalid("architectures", $"is missing, and so is 'model_type': the architecture is unknown; supported: {supported}");
        return Registered.FirstOrDefault(a => a.ModelType == modelType)
            ?? throw config.Invalid("model_type", $"is '{modelType}', which the library does not load; supported: {supported}");
    }
}

using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Vision;

namespace CaptionServer;

/// <summary>A saved captioner folder (<c>Captioner.Save</c>): the library's models, with sampling and, for attention models, the attention grid.</summary>
internal sealed class SavedCaptioner : IServedCaptioner
{
    private readonly Captioner captioner;
    private readonly ModelDescription description;

    public SavedCaptioner(CaptionServerOptions settings, ILoggerFactory loggerFactory)
    {
        var folder = Path.GetFullPath(settings.Model!);
        captioner = Captioner.Load(folder, new Device(settings.Device), loggerFactory: loggerFactory, decoder: settings.Decoder,
            integrity: settings.AllowEdited ? FolderIntegrity.AllowEdited : FolderIntegrity.Verified);
        var model = captioner.Bundle.Model;
        description = new ModelDescription(
            FolderName(folder),
            folder,
            "captioner",
            model.GetType().Name,
            model.VocabularySize,
            model.InputDimension,
            model.Encoder?.GetType().Name,
            captioner.Bundle.FeatureExtractor is { } features ? new FeatureDescription(features.Name, features.Dimension) : null,
            model.AttentionGrid is { } grid ? new GridDescription(grid.Rows, grid.Columns) : null,
            DecodingDescription.Of(captioner.Bundle.Decoding));
        loggerFactory.CreateLogger<SavedCaptioner>().LogInformation("Loaded {Model} ({Architecture}, {Vocabulary} tokens, attention grid {Grid}) from {Folder}",
            description.Name, description.Architecture, description.VocabularySize, model.AttentionGrid?.ToString() ?? "none", folder);
    }

    public string Name => description.Name;

    public object Description => description;

    public RequestDecoding Decoding(DecodingRequest request, CaptionServerOptions limits)
    {
        if (request.Prompt is not null)
            throw new FormatException($"option 'prompt' is for pretrained checkpoints that take a text prompt (BLIP); {description.Architecture} does not");
        if (request.Beam is not null && request.Temperature is not null)
            throw new FormatException("beam and temperature exclude each other: beam search keeps the most likely captions, sampling draws at random");
        if (request.Temperature is null && (request.TopK is not null || request.Seed is not null))
            throw new FormatException("topK and seed apply to sampling: add temperature=T");
        var decoding = captioner.Bundle.Decoding;
        if (request.Beam is { } width) decoding = decoding with { Strategy = DecodingStrategy.Beam, BeamWidth = width };
        if (request.Temperature is { } t) decoding = decoding with { Strategy = DecodingStrategy.Sample, Temperature = t, TopK = request.TopK ?? 0, Seed = request.Seed };
        if (request.MaxLength is { } length) decoding = decoding with { MaxLength = length };
        else if (decoding.MaxLength > limits.MaxCaptionLength) decoding = decoding with { MaxLength = limits.MaxCaptionLength };
        // Every answer carries the caption's score.
        return new SavedDecoding(decoding with { ComputeLogProbability = true });
    }

    public IReadOnlyList<ScoredCaption> Caption(IReadOnlyList<RgbImage> images, RequestDecoding decoding, CancellationToken cancellationToken) =>
        captioner.CaptionScored(images, ((SavedDecoding)decoding).Options, cancellationToken);

    public void WarmUp(CancellationToken cancellationToken)
    {
        using var gray = RgbImage.FromPixels(8, 8, new byte[8 * 8 * 3].AsSpan(), "warm-up");
        captioner.CaptionScored([gray], captioner.Bundle.Decoding, cancellationToken);
    }

    public void Dispose() => captioner.Dispose();

    /// <summary>The name answers give a model: its folder's.</summary>
    public static string FolderName(string folder) => Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar));
}

/// <summary>A saved captioner's decoding: the library's <see cref="DecodingOptions"/>.</summary>
internal sealed record SavedDecoding(DecodingOptions Options) : RequestDecoding
{
    public override DecodingDescription Shown => DecodingDescription.Of(Options);

    public override bool Alone => Options.Seed is not null;
}

/// <summary>What <c>GET /model</c> answers for a saved captioner.</summary>
internal sealed record ModelDescription(string Name, string Folder, string Kind, string Architecture, int VocabularySize, int InputDimension, string? Encoder,
    FeatureDescription? FeatureExtractor, GridDescription? AttentionGrid, DecodingDescription DefaultDecoding);

internal sealed record FeatureDescription(string Name, int Dimension);

internal sealed record GridDescription(int Rows, int Columns);

/// <summary>Decoding settings as an answer shows them: only those of the strategy used, and the prompt of a checkpoint that takes one.</summary>
internal sealed record DecodingDescription(string Strategy, int MaxLength, int? BeamWidth, double? LengthPenalty, double? Temperature, int? TopK, long? Seed,
    string? Prompt = null)
{
    public static DecodingDescription Of(DecodingOptions options) => options.Strategy switch
    {
        DecodingStrategy.Beam => new("beam", options.MaxLength, options.BeamWidth, options.LengthPenalty, null, null, null),
        DecodingStrategy.Sample => new("sample", options.MaxLength, null, null, options.Temperature, options.TopK, options.Seed),
        _ => new("greedy", options.MaxLength, null, null, null, null, null),
    };
}

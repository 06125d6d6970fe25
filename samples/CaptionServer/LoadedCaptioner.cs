using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>The captioner the server was started with, loaded once from <see cref="CaptionServerOptions.Model"/>.</summary>
internal sealed class LoadedCaptioner : IDisposable
{
    public LoadedCaptioner(IOptions<CaptionServerOptions> options, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        var folder = Path.GetFullPath(settings.Model!);
        var logger = loggerFactory.CreateLogger<LoadedCaptioner>();
        Captioner = Captioner.Load(folder, new Device(settings.Device), loggerFactory: loggerFactory, decoder: settings.Decoder,
            integrity: settings.AllowEdited ? FolderIntegrity.AllowEdited : FolderIntegrity.Verified);
        var model = Captioner.Bundle.Model;
        Description = new ModelDescription(
            Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar)),
            folder,
            model.GetType().Name,
            model.VocabularySize,
            model.InputDimension,
            model.Encoder?.GetType().Name,
            Captioner.Bundle.FeatureExtractor is { } features ? new FeatureDescription(features.Name, features.Dimension) : null,
            model.AttentionGrid is { } grid ? new GridDescription(grid.Rows, grid.Columns) : null,
            DecodingDescription.Of(Captioner.Bundle.Decoding));
        logger.LogInformation("Loaded {Model} ({Architecture}, {Vocabulary} tokens, attention grid {Grid}) from {Folder}",
            Description.Name, Description.Architecture, Description.VocabularySize, model.AttentionGrid?.ToString() ?? "none", folder);
    }

    public Captioner Captioner { get; }

    public ModelDescription Description { get; }

    public void Dispose() => Captioner.Dispose();
}

/// <summary>What <c>GET /model</c> answers.</summary>
internal sealed record ModelDescription(string Name, string Folder, string Architecture, int VocabularySize, int InputDimension, string? Encoder,
    FeatureDescription? FeatureExtractor, GridDescription? AttentionGrid, DecodingDescription DefaultDecoding);

internal sealed record FeatureDescription(string Name, int Dimension);

internal sealed record GridDescription(int Rows, int Columns);

/// <summary>Decoding settings as an answer shows them: only those of the strategy used.</summary>
internal sealed record DecodingDescription(string Strategy, int MaxLength, int? BeamWidth, double? LengthPenalty, double? Temperature, int? TopK, long? Seed)
{
    public static DecodingDescription Of(DecodingOptions options) => options.Strategy switch
    {
        DecodingStrategy.Beam => new("beam", options.MaxLength, options.BeamWidth, options.LengthPenalty, null, null, null),
        DecodingStrategy.Sample => new("sample", options.MaxLength, null, null, options.Temperature, options.TopK, options.Seed),
        _ => new("greedy", options.MaxLength, null, null, null, null, null),
    };
}

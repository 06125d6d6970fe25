using ImageCaptioning.Pipeline;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Vision;

namespace CaptionServer;

/// <summary>
/// A Hugging Face checkpoint folder (ViT-GPT-2, BLIP) through <see cref="PretrainedCaptioner"/>: greedy or beam
/// search on the checkpoint's generation defaults, a text prompt where the architecture takes one, no sampling and no
/// attention grid.
/// </summary>
internal sealed class CheckpointCaptioner : IServedCaptioner
{
    private readonly PretrainedCaptioner captioner;
    private readonly CheckpointDescription description;

    public CheckpointCaptioner(CaptionServerOptions settings, ILoggerFactory loggerFactory)
    {
        var folder = Path.GetFullPath(settings.Model!);
        // A gathered batch is one Caption call; the captioner's own batch size must not split it.
        captioner = PretrainedCaptioner.Load(folder, new PretrainedCaptionerOptions
        {
            Device = new Device(settings.Device),
            BatchSize = settings.MaxBatchSize,
            Decoder = settings.Decoder,
            LoggerFactory = loggerFactory,
        });
        var defaults = Resolve(new DecodingRequest(), settings);
        description = new CheckpointDescription(SavedCaptioner.FolderName(folder), folder, "checkpoint", captioner.Architecture, captioner.VocabularySize,
            captioner.ImageSize, captioner.TakesPrompt, captioner.Generation, defaults.Shown);
        loggerFactory.CreateLogger<CheckpointCaptioner>().LogInformation(
            "Loaded the checkpoint {Model} ({Architecture}, {Vocabulary} tokens, images {Size}, {Strategy}) from {Folder}",
            description.Name, description.Architecture, description.VocabularySize, captioner.ImageSize?.ToString() ?? "not resized", defaults.Shown.Strategy, folder);
    }

    public string Name => description.Name;

    public object Description => description;

    public RequestDecoding Decoding(DecodingRequest request, CaptionServerOptions limits)
    {
        var sampling = request.Temperature is not null ? "temperature" : request.TopK is not null ? "topK" : request.Seed is not null ? "seed" : null;
        if (sampling is not null)
            throw new FormatException($"option '{sampling}': the checkpoint ({captioner.Architecture}) does not sample; it is captioned with greedy or beam search (beam=N)");
        if (request.Prompt is not null && !captioner.TakesPrompt)
            throw new FormatException($"option 'prompt': the checkpoint ({captioner.Architecture}) takes no text prompt (BLIP does)");
        if (request.Prompt is "")
            throw new FormatException("option 'prompt' is empty: leave it out, or give the words the caption starts with");
        if (request.MaxLength is < 2)
            throw new FormatException($"option 'maxLength' must be at least 2 for a checkpoint (got {request.MaxLength}): it counts the start token, as Hugging Face's max_length does");
        return Resolve(request, limits);
    }

    public IReadOnlyList<ScoredCaption> Caption(IReadOnlyList<RgbImage> images, RequestDecoding decoding, CancellationToken cancellationToken)
    {
        var checkpoint = (CheckpointDecoding)decoding;
        return [.. captioner.Caption(images, checkpoint.Options, checkpoint.Prompt).Select(c => new ScoredCaption(c.Text, c.LogProbability, c.Finished, null))];
    }

    public void WarmUp(CancellationToken cancellationToken)
    {
        using var gray = RgbImage.FromPixels(8, 8, new byte[8 * 8 * 3].AsSpan(), "warm-up");
        captioner.Caption([gray]);
    }

    public void Dispose() => captioner.Dispose();

    private CheckpointDecoding Resolve(DecodingRequest request, CaptionServerOptions limits)
    {
        var options = new PretrainedGenerationOptions
        {
            NumBeams = request.Beam,
            MaxLength = request.MaxLength ?? (captioner.Generation.MaxLength > limits.MaxCaptionLength ? Math.Max(2, limits.MaxCaptionLength) : null),
        };
        var settings = captioner.Generation.With(options);
        var shown = settings.NumBeams > 1
            ? new DecodingDescription("beam", settings.MaxLength, settings.NumBeams, settings.LengthPenalty, null, null, null, request.Prompt)
            : new DecodingDescription("greedy", settings.MaxLength, null, null, null, null, null, request.Prompt);
        return new CheckpointDecoding(options, request.Prompt, shown);
    }
}

/// <summary>A checkpoint's decoding: the overrides of its generation defaults and the prompt.</summary>
internal sealed record CheckpointDecoding(PretrainedGenerationOptions Options, string? Prompt, DecodingDescription Described) : RequestDecoding
{
    public override DecodingDescription Shown => Described;
}

/// <summary>What <c>GET /model</c> answers for a checkpoint: its architecture, vocabulary, processor's image size, whether it takes a prompt, and its generation defaults.</summary>
internal sealed record CheckpointDescription(string Name, string Folder, string Kind, string Architecture, int VocabularySize, ImageSize? ImageSize,
    bool TakesPrompt, GenerationSettings Generation, DecodingDescription DefaultDecoding);

using ImageCaptioning.Vision;
using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>
/// The server's settings, bound from the configuration section <see cref="Section"/> (appsettings.json, environment
/// variables <c>CaptionServer__MaxBatchSize</c>, or the command line: <c>--model</c>, <c>--max-batch-size</c>, ...) and
/// validated when the server starts, so a wrong value ends the process with one line instead of surfacing per request.
/// </summary>
public sealed record CaptionServerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "CaptionServer";

    /// <summary>The saved captioner folder (Captioner.Save) or Hugging Face checkpoint folder (PretrainedCaptioner.Load). Required.</summary>
    public string? Model { get; init; }

    /// <summary>Load a saved captioner folder whose config.json was edited by hand (<c>FolderIntegrity.AllowEdited</c>); checkpoints record no digests.</summary>
    public bool AllowEdited { get; init; }

    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Most images in one forward pass; 1 turns batching off.</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>How long the first request of a batch waits for others to join it, in milliseconds; 0 takes only those already queued.</summary>
    public int BatchWindowMilliseconds { get; init; } = 5;

    /// <summary>Requests accepted and not yet running; past it a request is answered 503 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>The Retry-After of a 503, in seconds.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>The largest upload, in bytes; a larger one is answered 413 after reading at most this many bytes and one more.</summary>
    public long MaxUploadBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>
    /// The largest width × height decoded; a header announcing more is answered 400 before pixel memory is allocated.
    /// Null: PIL's limit, lowered so that every image the server may hold at once (one per core being decoded, the
    /// queue and a batch) fits in half the memory (<see cref="ImageDecoderOptions.ForConcurrentDecoding"/>).
    /// </summary>
    public long? MaxPixels { get; init; }

    /// <summary>The largest beam width a request may ask for.</summary>
    public int MaxBeamWidth { get; init; } = 8;

    /// <summary>The largest maximum caption length a request may ask for.</summary>
    public int MaxCaptionLength { get; init; } = 64;

    /// <summary>Images decoded at once: one per core.</summary>
    internal static int DecodeConcurrency => Environment.ProcessorCount;

    /// <summary>The decoder options <see cref="MaxPixels"/> gives.</summary>
    internal ImageDecoderOptions Decoder => new()
    {
        MaxPixelCount = MaxPixels ?? ImageDecoderOptions.ForConcurrentDecoding(DecodeConcurrency + QueueCapacity + MaxBatchSize).MaxPixelCount,
    };

    /// <summary>The command-line switches and the keys they set.</summary>
    internal static Dictionary<string, string> Switches { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["--model"] = $"{Section}:{nameof(Model)}",
        ["--allow-edited"] = $"{Section}:{nameof(AllowEdited)}",
        ["--device"] = $"{Section}:{nameof(Device)}",
        ["--max-batch-size"] = $"{Section}:{nameof(MaxBatchSize)}",
        ["--batch-window-ms"] = $"{Section}:{nameof(BatchWindowMilliseconds)}",
        ["--queue-capacity"] = $"{Section}:{nameof(QueueCapacity)}",
        ["--retry-after"] = $"{Section}:{nameof(RetryAfterSeconds)}",
        ["--max-upload-bytes"] = $"{Section}:{nameof(MaxUploadBytes)}",
        ["--max-pixels"] = $"{Section}:{nameof(MaxPixels)}",
        ["--max-beam"] = $"{Section}:{nameof(MaxBeamWidth)}",
        ["--max-length"] = $"{Section}:{nameof(MaxCaptionLength)}",
    };
}

/// <summary>Checks <see cref="CaptionServerOptions"/> at start; each failure names the key and the switch.</summary>
internal sealed class CaptionServerOptionsValidator : IValidateOptions<CaptionServerOptions>
{
    public ValidateOptionsResult Validate(string? name, CaptionServerOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Model))
            failures.Add($"{Key(nameof(options.Model))} is required: pass --model FOLDER, a saved captioner folder (Captioner.Save; QuickStart writes quickstart-output/model) or a hub checkpoint folder (ViT-GPT-2, BLIP)");
        else if (!Directory.Exists(options.Model))
            failures.Add($"{Key(nameof(options.Model))}: the folder '{Path.GetFullPath(options.Model)}' does not exist");
        else if (ServedCaptioner.WhyNeither(options.Model) is { } neither)
            failures.Add($"{Key(nameof(options.Model))}: {neither}");
        if (options.Device is not ("cpu" or "cuda") && !options.Device.StartsWith("cuda:", StringComparison.Ordinal))
            failures.Add($"{Key(nameof(options.Device))} must be cpu, cuda or cuda:N (got '{options.Device}')");
        Range(nameof(options.MaxBatchSize), options.MaxBatchSize, 1, 256);
        Range(nameof(options.BatchWindowMilliseconds), options.BatchWindowMilliseconds, 0, 10_000);
        Range(nameof(options.QueueCapacity), options.QueueCapacity, 1, 100_000);
        Range(nameof(options.RetryAfterSeconds), options.RetryAfterSeconds, 1, 3600);
        Range(nameof(options.MaxUploadBytes), options.MaxUploadBytes, 1, Array.MaxLength - 1);
        if (options.MaxPixels is { } pixels) Range(nameof(options.MaxPixels), pixels, 1, long.MaxValue);
        Range(nameof(options.MaxBeamWidth), options.MaxBeamWidth, 1, 64);
        Range(nameof(options.MaxCaptionLength), options.MaxCaptionLength, 1, 1024);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Range(string key, long value, long least, long most)
        {
            if (value < least || value > most) failures.Add($"{Key(key)} must be between {least} and {most} (got {value})");
        }
    }

    private static string Key(string property)
    {
        var flag = CaptionServerOptions.Switches.First(s => s.Value.EndsWith(":" + property, StringComparison.Ordinal)).Key;
        return $"{CaptionServerOptions.Section}:{property} ({flag})";
    }
}

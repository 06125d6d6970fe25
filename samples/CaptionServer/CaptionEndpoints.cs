using System.Diagnostics;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>The routes: <c>POST /captions</c>, <c>GET /</c> (the upload page), <c>GET /health</c>, <c>GET /model</c>.</summary>
internal static class CaptionEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/captions", CaptionAsync).DisableAntiforgery();
        app.MapGet("/", () => Results.Content(IndexPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/health", (CaptionBatcher batcher, IServedCaptioner model, IHostApplicationLifetime lifetime) => Results.Json(new HealthAnswer(
            lifetime.ApplicationStopping.IsCancellationRequested ? "stopping" : "ok", model.Name, batcher.Counters)));
        app.MapGet("/model", (IServedCaptioner model) => Results.Json(model.Description));
    }

    private static async Task<IResult> CaptionAsync(HttpContext context, CaptionBatcher batcher, IServedCaptioner model, DecodeGate gate,
        IOptions<CaptionServerOptions> settings, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("CaptionServer.Captions");
        var options = settings.Value;
        var aborted = context.RequestAborted;
        var started = Stopwatch.GetTimestamp();
        // The options are checked before the upload is read: a wrong one costs the client nothing to learn.
        var (query, error) = CaptionQuery.Parse(context.Request.Query, model, options);
        if (query is null) return Refuse(logger, StatusCodes.Status400BadRequest, error!);

        RgbImage image;
        var format = ImageFormat.Unknown;
        var bytes = 0;
        try
        {
            var upload = await UploadReader.ReadAsync(context.Request, options.MaxUploadBytes, aborted);
            if (upload.Length == 0)
                return Refuse(logger, StatusCodes.Status400BadRequest, "the body is empty: send an image as the body or as a file of a multipart form");
            (format, bytes) = (ImageDecoder.DetectFormat(upload), upload.Length);
            await gate.WaitAsync(aborted);
            try
            {
                image = ImageDecoder.Decode(upload, "upload", options.Decoder);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (UploadException e)
        {
            return Refuse(logger, e.Status, e.Message);
        }
        catch (ImageDecodeException e)
        {
            // Not an image of a supported format at all: 415; an image the decoder refuses (oversized, truncated, corrupt): 400.
            var status = format is ImageFormat.Unknown or ImageFormat.Tiff ? StatusCodes.Status415UnsupportedMediaType : StatusCodes.Status400BadRequest;
            return Refuse(logger, status, e.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            logger.LogInformation("The client disconnected while uploading");
            return Results.Empty;
        }

        var job = new CaptionJob(image, query.Decoding, aborted);
        var admission = batcher.TryEnqueue(job);
        if (admission != Admission.Accepted)
        {
            image.Dispose();
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Refuse(logger, StatusCodes.Status503ServiceUnavailable, admission == Admission.QueueFull
                ? $"the queue is full ({options.QueueCapacity} requests waiting): retry after {options.RetryAfterSeconds} s"
                : "the server is shutting down");
        }

        ScoredCaption caption;
        try
        {
            caption = await job.Completion.Task.WaitAsync(aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            logger.LogInformation("The client disconnected while its caption was pending");
            return Results.Empty;
        }
        catch (ArgumentException e)
        {
            // The model refused the decoding (a length beyond what its positions cover, say).
            return Refuse(logger, StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Captioning failed");
            return Results.Problem(detail: $"captioning failed: {e.Message}", statusCode: StatusCodes.Status500InternalServerError);
        }

        logger.LogInformation("Captioned a {Width}x{Height} {Format} ({Bytes} bytes) by {Strategy} in {Milliseconds:F1} ms: {Caption}",
            job.Image.Width, job.Image.Height, format, bytes, query.Decoding.Shown.Strategy, Stopwatch.GetElapsedTime(started).TotalMilliseconds, caption.Text);
        return Results.Json(CaptionAnswer.Of(caption, query, model.Name));
    }

    private static IResult Refuse(ILogger logger, int status, string reason)
    {
        logger.LogWarning("Refused with {Status}: {Reason}", status, reason);
        return Results.Problem(detail: reason, statusCode: status);
    }
}

/// <summary>What <c>GET /health</c> answers.</summary>
internal sealed record HealthAnswer(string Status, string Model, BatcherCounters Queue);

/// <summary>What <c>POST /captions</c> answers.</summary>
internal sealed record CaptionAnswer(string Caption, double? LogProbability, bool Finished, DecodingDescription Decoding, string Model,
    AttentionAnswer? Attention, string? Strip)
{
    public static CaptionAnswer Of(ScoredCaption caption, CaptionQuery query, string model) => new(
        caption.Text,
        double.IsFinite(caption.LogProbability) ? caption.LogProbability : null,
        caption.Finished,
        query.Decoding.Shown,
        model,
        caption.Attention is { } attention ? new AttentionAnswer(attention.GridRows, attention.GridColumns, attention.Words, attention.Weights) : null,
        query.Strip && caption.Attention is { } shown ? AttentionStrip.Html(shown) : null);
}

/// <summary>Each word's weights over the <see cref="Rows"/> × <see cref="Columns"/> grid, row-major, row 0 at the top.</summary>
internal sealed record AttentionAnswer(int Rows, int Columns, IReadOnlyList<string> Words, IReadOnlyList<IReadOnlyList<float>> Weights);

/// <summary>Bounds the images decoded at once to one per core, so concurrent uploads cannot hold more pixels than planned for.</summary>
internal sealed class DecodeGate() : SemaphoreSlim(CaptionServerOptions.DecodeConcurrency);

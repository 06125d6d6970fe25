using System.Diagnostics;
using System.Threading.Channels;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>One decoded upload waiting for its caption. The batcher owns the image once it accepts the job.</summary>
internal sealed class CaptionJob(RgbImage image, RequestDecoding decoding, CancellationToken aborted)
{
    public RgbImage Image { get; } = image;

    public RequestDecoding Decoding { get; } = decoding;

    /// <summary>The request's <c>RequestAborted</c>: a job whose client left is dropped before its forward pass.</summary>
    public CancellationToken Aborted { get; } = aborted;

    public TaskCompletionSource<ScoredCaption> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Why <see cref="CaptionBatcher.TryEnqueue"/> took a job or not.</summary>
internal enum Admission
{
    Accepted,
    QueueFull,
    ShuttingDown,
}

/// <summary>Counters that <c>GET /health</c> reports.</summary>
internal sealed record BatcherCounters(int Waiting, long Captioned, long Batches, long Cancelled, long Rejected, long Failed);

/// <summary>
/// Gathers concurrent requests into batched forward passes: one worker takes the first waiting job, waits up to
/// <see cref="CaptionServerOptions.BatchWindowMilliseconds"/> for more (up to <see cref="CaptionServerOptions.MaxBatchSize"/>),
/// and captions those with the same decoding together. At most <see cref="CaptionServerOptions.QueueCapacity"/> jobs
/// wait (in the queue or in the batch being gathered): past that a job is refused, so a burst costs a 503, never an
/// unbounded backlog. On shutdown it takes no new job and finishes those it has.
/// </summary>
internal sealed class CaptionBatcher : IHostedService
{
    private readonly Channel<CaptionJob> channel;
    private readonly IServedCaptioner model;
    private readonly CaptionServerOptions options;
    private readonly ILogger<CaptionBatcher> logger;
    private Task? worker;
    private volatile bool stopping;
    private int waiting;
    private long captioned, batches, cancelled, rejected, failed;

    public CaptionBatcher(IServedCaptioner model, IOptions<CaptionServerOptions> options, ILogger<CaptionBatcher> logger)
    {
        (this.model, this.options, this.logger) = (model, options.Value, logger);
        channel = Channel.CreateBounded<CaptionJob>(new BoundedChannelOptions(this.options.QueueCapacity) { SingleReader = true });
    }

    public BatcherCounters Counters => new(Volatile.Read(ref waiting), Interlocked.Read(ref captioned), Interlocked.Read(ref batches),
        Interlocked.Read(ref cancelled), Interlocked.Read(ref rejected), Interlocked.Read(ref failed));

    /// <summary>Queues <paramref name="job"/>, or says why not (the caller then still owns its image).</summary>
    public Admission TryEnqueue(CaptionJob job)
    {
        if (stopping) return Admission.ShuttingDown;
        // Counted before the write, so the bound holds however many requests arrive at once.
        if (Interlocked.Increment(ref waiting) > options.QueueCapacity)
        {
            Interlocked.Decrement(ref waiting);
            Interlocked.Increment(ref rejected);
            return Admission.QueueFull;
        }
        if (channel.Writer.TryWrite(job)) return Admission.Accepted;
        Interlocked.Decrement(ref waiting);
        return Admission.ShuttingDown;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // One caption before the first request, so that its latency is not libtorch's first-call setup.
        var started = Stopwatch.GetTimestamp();
        model.WarmUp(cancellationToken);
        logger.LogInformation("Warmed up in {Milliseconds:F0} ms; batches of up to {MaxBatch} within {Window} ms, {Capacity} waiting at most",
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, options.MaxBatchSize, options.BatchWindowMilliseconds, options.QueueCapacity);
        worker = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        channel.Writer.TryComplete();
        if (worker is null) return;
        logger.LogInformation("Stopping: finishing {Waiting} waiting requests", Volatile.Read(ref waiting));
        try
        {
            await worker.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The shutdown timeout ended the wait with {Waiting} requests unfinished", Volatile.Read(ref waiting));
        }
    }

    private async Task RunAsync()
    {
        var reader = channel.Reader;
        var window = TimeSpan.FromMilliseconds(options.BatchWindowMilliseconds);
        // WaitToReadAsync is false once the writer is completed and the queue is empty: shutdown drains first.
        while (await reader.WaitToReadAsync())
        {
            if (!reader.TryRead(out var first)) continue;
            var batch = new List<CaptionJob>(options.MaxBatchSize) { first };
            var opened = Stopwatch.GetTimestamp();
            while (batch.Count < options.MaxBatchSize)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }
                var left = window - Stopwatch.GetElapsedTime(opened);
                if (left <= TimeSpan.Zero) break;
                using var timer = new CancellationTokenSource(left);
                try
                {
                    if (!await reader.WaitToReadAsync(timer.Token)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Interlocked.Add(ref waiting, -batch.Count);
            Run(batch);
        }
    }

    private void Run(List<CaptionJob> batch)
    {
        var live = new List<CaptionJob>(batch.Count);
        foreach (var job in batch)
        {
            if (!job.Aborted.IsCancellationRequested)
            {
                live.Add(job);
                continue;
            }
            job.Completion.TrySetCanceled(job.Aborted);
            job.Image.Dispose();
            Interlocked.Increment(ref cancelled);
            logger.LogInformation("Dropped a request whose client disconnected before its forward pass");
        }
        foreach (var group in live.GroupBy(job => job.Decoding))
        {
            var passes = group.Key.Alone ? group.Select(job => new List<CaptionJob> { job }) : [group.ToList()];
            foreach (var pass in passes) Forward(pass);
        }
    }

    private void Forward(List<CaptionJob> pass)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var captions = model.Caption([.. pass.Select(job => job.Image)], pass[0].Decoding, CancellationToken.None);
            for (var i = 0; i < pass.Count; i++) pass[i].Completion.TrySetResult(captions[i]);
            Interlocked.Add(ref captioned, pass.Count);
            Interlocked.Increment(ref batches);
            logger.LogDebug("Captioned a batch of {Count} in {Milliseconds:F1} ms", pass.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e)
        {
            // The worker outlives any failure: the requests of this pass get it, the next pass runs as usual.
            Interlocked.Add(ref failed, pass.Count);
            logger.LogError(e, "A batch of {Count} failed", pass.Count);
            foreach (var job in pass) job.Completion.TrySetException(e);
        }
        finally
        {
            foreach (var job in pass) job.Image.Dispose();
        }
    }
}

using System.Runtime.ExceptionServices;

namespace ImageCaptioning.Concurrency;

/// <summary>
/// Worker threads that call <c>produce(i)</c> for i = 0 .. count - 1 ahead of the consumer, at most
/// <c>capacity</c> items beyond the last one taken, and hand the results over strictly in order.
/// </summary>
/// <remarks>
/// Each handover wakes at most the one thread that waits for it: a worker that finishes item i signals only slot
/// i's event (free when the consumer is not waiting on it), and the consumer frees one permit of the capacity
/// semaphore (free when no worker waits for room). Both waits spin briefly before blocking. A single monitor with
/// <c>PulseAll</c> woke every worker and the consumer on every put and take, about two context switches per batch,
/// which cost as much as building a small batch.
/// </remarks>
internal sealed class PrefetchPipeline<T> : IDisposable
{
    private readonly Func<int, T> produce;
    private readonly int count;
    private readonly Outcome[] outcomes;
    private readonly ManualResetEventSlim[] ready;
    // One permit per item that may be claimed and not yet taken.
    private readonly SemaphoreSlim capacity;
    // Fires on the caller's cancellation or on Dispose.
    private readonly CancellationTokenSource stop;
    private readonly CancellationToken cancellationToken;
    private readonly Thread[] workers;
    private int claimed = -1;
    private int delivered;
    private volatile bool failed;
    private bool disposed;

    public PrefetchPipeline(int count, Func<int, T> produce, int workerCount, int capacity, CancellationToken cancellationToken)
    {
        this.count = count;
        this.produce = produce;
        this.cancellationToken = cancellationToken;
        outcomes = new Outcome[capacity];
        ready = new ManualResetEventSlim[capacity];
        for (var i = 0; i < ready.Length; i++) ready[i] = new ManualResetEventSlim();
        this.capacity = new SemaphoreSlim(capacity, capacity);
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        workers = new Thread[Math.Min(workerCount, Math.Max(count, 1))];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(Work) { IsBackground = true, Name = $"ImageCaptioning prefetch {i}" };
            workers[i].Start();
        }
    }

    /// <summary>The next item in order; a worker's exception is rethrown here with its original stack trace.</summary>
    public T Take()
    {
        cancellationToken.ThrowIfCancellationRequested();
        var slot = delivered % outcomes.Length;
        try
        {
            ready[slot].Wait(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Only the caller's token can fire while the consumer is inside Take: report it as theirs.
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
        // A cancelled consumer takes nothing: the item stays in its slot for Dispose to release.
        cancellationToken.ThrowIfCancellationRequested();
        var outcome = outcomes[slot];
        outcomes[slot] = default;
        // Reset before the permit is freed, so that the next producer of this slot cannot be undone.
        ready[slot].Reset();
        delivered++;
        capacity.Release();
        outcome.Error?.Throw();
        return outcome.Value!;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        stop.Cancel();
        foreach (var worker in workers) worker.Join();
        // Items built but never taken may hold pooled buffers: give them back.
        for (var i = 0; i < outcomes.Length; i++)
            if (ready[i].IsSet && outcomes[i].Value is IDisposable disposable) disposable.Dispose();
        foreach (var signal in ready) signal.Dispose();
        capacity.Dispose();
        stop.Dispose();
    }

    private void Work()
    {
        var stopping = stop.Token;
        while (true)
        {
            try
            {
                capacity.Wait(stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            // After a failure no new work starts: the consumer will stop at the failed item.
            if (failed || stopping.IsCancellationRequested) return;
            var index = Interlocked.Increment(ref claimed);
            if (index >= count) return;

            Outcome outcome;
            try
            {
                outcome = new Outcome(produce(index), null);
            }
            catch (Exception exception)
            {
                outcome = new Outcome(default, ExceptionDispatchInfo.Capture(exception));
                failed = true;
            }
            var slot = index % outcomes.Length;
            outcomes[slot] = outcome;
            // Set publishes the outcome (a full fence) and wakes the consumer only if it waits on this slot.
            ready[slot].Set();
        }
    }

    private readonly record struct Outcome(T? Value, ExceptionDispatchInfo? Error);
}

using System.Runtime.ExceptionServices;

namespace ImageCaptioning.Data;

/// <summary>
/// Worker threads that call <c>produce(i)</c> for i = 0 .. count - 1 ahead of the consumer, at most
/// <c>capacity</c> items beyond the last one taken, and hand the results over strictly in order.
/// </summary>
internal sealed class PrefetchPipeline<T> : IDisposable
{
    private readonly Func<int, T> produce;
    private readonly int count;
    private readonly Outcome[] slots;
    private readonly bool[] filled;
    private readonly object gate = new();
    private readonly Thread[] workers;
    private readonly CancellationToken cancellationToken;
    private readonly CancellationTokenRegistration registration;
    private int claimed;
    private int delivered;
    private bool stopping;
    private bool failed;

    public PrefetchPipeline(int count, Func<int, T> produce, PrefetchOptions options, CancellationToken cancellationToken)
    {
        this.count = count;
        this.produce = produce;
        this.cancellationToken = cancellationToken;
        slots = new Outcome[options.MaxQueueSize];
        filled = new bool[options.MaxQueueSize];
        registration = cancellationToken.Register(Stop);
        workers = new Thread[Math.Min(options.Workers, Math.Max(count, 1))];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(Work) { IsBackground = true, Name = $"ImageCaptioning prefetch {i}" };
            workers[i].Start();
        }
    }

    /// <summary>The next item in order; a worker's exception is rethrown here with its original stack trace.</summary>
    public T Take()
    {
        Outcome outcome;
        lock (gate)
        {
            var slot = delivered % slots.Length;
            while (!filled[slot])
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(gate);
            }
            cancellationToken.ThrowIfCancellationRequested();
            outcome = slots[slot];
            slots[slot] = default;
            filled[slot] = false;
            delivered++;
            Monitor.PulseAll(gate);
        }
        outcome.Error?.Throw();
        return outcome.Value!;
    }

    public void Dispose()
    {
        registration.Dispose();
        Stop();
        foreach (var worker in workers) worker.Join();
        // Batches built but never taken may hold pooled buffers: give them back.
        for (var i = 0; i < slots.Length; i++)
            if (filled[i] && slots[i].Value is IDisposable disposable) disposable.Dispose();
    }

    private void Stop()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.PulseAll(gate);
        }
    }

    private void Work()
    {
        while (true)
        {
            int index;
            lock (gate)
            {
                while (!stopping && !failed && claimed < count && claimed - delivered >= slots.Length) Monitor.Wait(gate);
                if (stopping || failed || claimed >= count) return;
                index = claimed++;
            }

            Outcome outcome;
            try
            {
                outcome = new Outcome(produce(index), null);
            }
            catch (Exception exception)
            {
                outcome = new Outcome(default, ExceptionDispatchInfo.Capture(exception));
            }

            lock (gate)
            {
                if (stopping)
                {
                    (outcome.Value as IDisposable)?.Dispose();
                    return;
                }
                slots[index % slots.Length] = outcome;
                filled[index % slots.Length] = true;
                // After a failure no new work starts: the consumer will stop at the failed item.
                failed |= outcome.Error is not null;
                Monitor.PulseAll(gate);
            }
        }
    }

    private readonly record struct Outcome(T? Value, ExceptionDispatchInfo? Error);
}

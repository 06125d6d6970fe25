using ImageCaptioning.Concurrency;

namespace ImageCaptioning.Training;

/// <summary>
/// The training batches of one epoch from a given step on, in order: built by the shared prefetcher
/// (<see cref="PrefetchPipeline{T}"/>) on one worker thread at most <c>depth</c> batches ahead, or on the calling
/// thread when the depth is 0.
/// </summary>
/// <remarks>
/// A batch is host arrays only; its tensors are made on the training thread (<see cref="Data.Batch.ToTensors"/>), inside
/// that thread's dispose scope, so no tensor crosses threads. A worker's exception is rethrown by <see cref="Next"/>
/// with its original stack. Disposing stops the worker and returns the batches built but not taken to the pool.
/// </remarks>
internal sealed class TrainingBatches<TBatch> : IDisposable
{
    private readonly Func<int, int, TBatch> batchOf;
    private readonly int epoch;
    private readonly PrefetchPipeline<TBatch>? prefetch;
    private int next;

    /// <summary>Batches <paramref name="firstStep"/> .. <paramref name="count"/> - 1 of <paramref name="epoch"/>, batch k being <c>batchOf(epoch, k)</c>.</summary>
    public TrainingBatches(int count, Func<int, int, TBatch> batchOf, int epoch, int firstStep, int depth)
    {
        (this.batchOf, this.epoch, next) = (batchOf, epoch, firstStep);
        // The trainer checks its own token between steps: the prefetcher's would turn a cancellation into an exception.
        if (depth > 0)
            prefetch = new PrefetchPipeline<TBatch>(count - firstStep, i => batchOf(epoch, firstStep + i),
                workerCount: 1, capacity: depth, CancellationToken.None);
    }

    /// <summary>The next batch; the caller disposes it.</summary>
    public TBatch Next() => prefetch is null ? batchOf(epoch, next++) : prefetch.Take();

    public void Dispose() => prefetch?.Dispose();
}

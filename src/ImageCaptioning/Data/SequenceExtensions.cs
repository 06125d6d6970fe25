using ImageCaptioning.Concurrency;

namespace ImageCaptioning.Data;

/// <summary>Background preparation of a <see cref="Sequence{TBatch}"/>'s batches.</summary>
public static class SequenceExtensions
{
    /// <summary>
    /// One epoch of <paramref name="sequence"/>, with batches built ahead by <see cref="PrefetchOptions.Workers"/>
    /// threads into a queue of <see cref="PrefetchOptions.MaxQueueSize"/> and delivered in index order; then
    /// <see cref="Sequence{TBatch}.OnEpochEnd"/>. A worker's exception is rethrown to the consumer with its original
    /// stack trace. Cancelling <paramref name="cancellationToken"/> or disposing the enumerator stops the workers after
    /// the batch each is building, and disposes batches built but not delivered.
    /// </summary>
    public static IEnumerable<TBatch> Prefetch<TBatch>(this Sequence<TBatch> sequence, PrefetchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        return PrefetchEpoch(sequence, options ?? new PrefetchOptions(), cancellationToken);
    }

    /// <summary>Like <see cref="Prefetch{TBatch}"/>, epoch after epoch without end (the recipe's <c>while True</c>).</summary>
    public static IEnumerable<TBatch> PrefetchForever<TBatch>(this Sequence<TBatch> sequence, PrefetchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence.Count == 0) throw new InvalidOperationException("the sequence has no batches to repeat");
        return Forever(sequence, options ?? new PrefetchOptions(), cancellationToken);

        static IEnumerable<TBatch> Forever(Sequence<TBatch> sequence, PrefetchOptions options, CancellationToken cancellationToken)
        {
            while (true)
                foreach (var batch in PrefetchEpoch(sequence, options, cancellationToken))
                    yield return batch;
        }
    }

    private static IEnumerable<TBatch> PrefetchEpoch<TBatch>(Sequence<TBatch> sequence, PrefetchOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Workers of the next epoch start only after OnEpochEnd, so no batch mixes two epochs' orders.
        foreach (var batch in OrderedPrefetch.Run(sequence.Count, index => sequence[index], options.Workers, options.MaxQueueSize, cancellationToken))
            yield return batch;
        sequence.OnEpochEnd();
    }
}

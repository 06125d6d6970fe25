namespace ImageCaptioning.Concurrency;

/// <summary>
/// Runs <c>produce(i)</c> for i = 0 .. count - 1 on worker threads, ahead of the consumer, and yields the results in
/// index order: at most <c>workers</c> run at once, and at most <c>capacity</c> are started or waiting beyond the last
/// one consumed. A failure is rethrown, with its original stack trace, when the consumer reaches its index; the
/// results before it are delivered normally.
/// </summary>
/// <remarks>
/// Stopping early (break, exception, dispose) or cancelling stops the workers after the item each is producing, waits
/// for them (an item may hold native memory) and disposes the results nobody will consume.
/// </remarks>
internal static class OrderedPrefetch
{
    public static IEnumerable<T> Run<T>(int count, Func<int, T> produce, int workers, int capacity, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(produce);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        return Iterate(count, produce, workers, capacity, cancellationToken);
    }

    private static IEnumerable<T> Iterate<T>(int count, Func<int, T> produce, int workers, int capacity, CancellationToken cancellationToken)
    {
        using var pipeline = new PrefetchPipeline<T>(count, produce, workers, capacity, cancellationToken);
        for (var i = 0; i < count; i++) yield return pipeline.Take();
    }
}

namespace ImageCaptioning.Vision;

/// <summary>
/// Runs a function over a sequence on worker threads, ahead of the consumer, and yields the results in source
/// order. At most <c>window</c> items are started but not yet consumed, and at most <c>maxParallel</c> run at once.
/// </summary>
internal static class OrderedPrefetch
{
    public static IEnumerable<TResult> Run<TSource, TResult>(
        IEnumerable<TSource> source, Func<TSource, TResult> work, int maxParallel, int window, CancellationToken cancellationToken)
        where TResult : IDisposable
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxParallel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        return Iterate(source, work, maxParallel, window, cancellationToken);
    }

    private static IEnumerable<TResult> Iterate<TSource, TResult>(
        IEnumerable<TSource> source, Func<TSource, TResult> work, int maxParallel, int window, CancellationToken cancellationToken)
        where TResult : IDisposable
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(maxParallel);
        using var items = source.GetEnumerator();
        var pending = new Queue<Task<TResult>>();
        var token = cancellation.Token;

        try
        {
            while (true)
            {
                while (pending.Count < window && items.MoveNext())
                    pending.Enqueue(Start(items.Current));
                if (pending.Count == 0) yield break;

                // GetResult rethrows the work's own exception (not an AggregateException), in source order.
                var result = pending.Dequeue().GetAwaiter().GetResult();
                yield return result;
            }
        }
        finally
        {
            // The consumer stopped early or an item failed: stop what has not started, wait for what has (it may
            // hold native memory), and release the results nobody will consume.
            cancellation.Cancel();
            foreach (var task in pending)
            {
                try
                {
                    task.GetAwaiter().GetResult().Dispose();
                }
                catch
                {
                    // Failures of items nobody will consume are moot; the first failure was already reported.
                }
            }
        }

        Task<TResult> Start(TSource item) => Task.Run(async () =>
        {
            await slots.WaitAsync(token).ConfigureAwait(false);
            try
            {
                token.ThrowIfCancellationRequested();
                return work(item);
            }
            finally
            {
                slots.Release();
            }
        }, token);
    }
}

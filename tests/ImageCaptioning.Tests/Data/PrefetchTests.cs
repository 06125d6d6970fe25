using ImageCaptioning.Data;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Data;

public sealed class PrefetchTests
{
    /// <summary>Batch i is i; records what workers did, and can fail or block on chosen batches.</summary>
    private sealed class ProbeSequence(int count, int failAt = -1) : Sequence<int>(new SequenceOptions { Shuffle = false })
    {
        private int produced;
        private int consumed;
        private int maxAhead;

        public override int Count => count;
        public int Produced => Volatile.Read(ref produced);
        public int MaxAhead => Volatile.Read(ref maxAhead);
        public ICollection<int> Threads => threadIds.Keys;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> threadIds = new();

        public void Consumed() => Interlocked.Increment(ref consumed);

        protected override int GetBatch(int index)
        {
            threadIds.TryAdd(Environment.CurrentManagedThreadId, true);
            var ahead = index - Volatile.Read(ref consumed);
            int seen;
            while ((seen = Volatile.Read(ref maxAhead)) < ahead && Interlocked.CompareExchange(ref maxAhead, ahead, seen) != seen) { }
            if (index == failAt) ThrowFromWorker(index);
            Thread.Yield();
            Interlocked.Increment(ref produced);
            return index;
        }

        protected override void PrepareEpoch(int epoch) { }

        private static void ThrowFromWorker(int index) => throw new InvalidDataException($"batch {index} is corrupt");
    }

    [Test]
    public void DeliversEveryBatchInOrderWithinTheQueueBound()
    {
        var sequence = new ProbeSequence(200);
        var received = new List<int>();
        foreach (var batch in sequence.Prefetch(new PrefetchOptions { Workers = 4, MaxQueueSize = 3 }))
        {
            received.Add(batch);
            sequence.Consumed();
        }

        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 200)));
        // The consumer counts a batch after receiving it, so the batch in its hands makes the bound MaxQueueSize, not - 1.
        Assert.That(sequence.MaxAhead, Is.LessThanOrEqualTo(3), "no batch is started more than MaxQueueSize ahead of the consumer");
        Assert.That(sequence.Threads, Does.Not.Contain(Environment.CurrentManagedThreadId), "batches are built on worker threads");
        Assert.That(sequence.Epoch, Is.EqualTo(1), "a finished epoch is ended");
    }

    [Test]
    public void WorkerExceptionReachesTheConsumerWithItsStack()
    {
        var sequence = new ProbeSequence(100, failAt: 17);
        var received = new List<int>();

        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var batch in sequence.Prefetch(new PrefetchOptions { Workers = 3, MaxQueueSize = 4 }))
                received.Add(batch);
        })!;

        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 17)), "the batches before the failure arrive first, in order");
        Assert.That(error.Message, Is.EqualTo("batch 17 is corrupt"));
        Assert.That(error.StackTrace, Does.Contain("ThrowFromWorker").And.Contain(nameof(ProbeSequence)), "the original stack is kept");
        Assert.That(sequence.Produced, Is.LessThan(17 + 4 + 3), "work stops after the failure");
    }

    [Test]
    public void CancellationStopsTheWorkers()
    {
        var sequence = new ProbeSequence(100_000);
        using var cancellation = new CancellationTokenSource();
        var received = 0;

        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var _ in sequence.Prefetch(new PrefetchOptions { Workers = 2, MaxQueueSize = 4 }, cancellation.Token))
            {
                sequence.Consumed();
                if (++received == 5) cancellation.Cancel();
            }
        });

        // Disposing the enumeration joined the workers: nothing more is produced from here on.
        var produced = sequence.Produced;
        Assert.That(produced, Is.LessThanOrEqualTo(5 + 4));
        Thread.Sleep(50);
        Assert.That(sequence.Produced, Is.EqualTo(produced));
        Assert.That(sequence.Epoch, Is.EqualTo(0), "an abandoned epoch is not ended");
    }

    /// <summary>Batch i is a disposable token; counts the tokens built and not yet disposed.</summary>
    private sealed class LeaseSequence(int count) : Sequence<LeaseSequence.Lease>(new SequenceOptions { Shuffle = false })
    {
        private int live;

        public override int Count => count;
        public int Live => Volatile.Read(ref live);

        protected override Lease GetBatch(int index)
        {
            Interlocked.Increment(ref live);
            return new Lease(this);
        }

        protected override void PrepareEpoch(int epoch) { }

        public sealed class Lease(LeaseSequence owner) : IDisposable
        {
            private int disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref disposed, 1) == 0) Interlocked.Decrement(ref owner.live);
            }
        }
    }

    [Test]
    public void AbandoningAnEpochDisposesTheBatchesBuiltAhead()
    {
        var sequence = new LeaseSequence(1000);
        var taken = 0;
        foreach (var batch in sequence.Prefetch(new PrefetchOptions { Workers = 3, MaxQueueSize = 6 }))
        {
            batch.Dispose();
            if (++taken == 3)
            {
                // Let the workers fill the queue so that there is something left to release.
                SpinWait.SpinUntil(() => sequence.Live == 6, TimeSpan.FromSeconds(5));
                break;
            }
        }

        Assert.That(sequence.Live, Is.Zero, "batches built but never delivered are disposed when the enumeration ends");
    }

    [Test]
    public void PrefetchedBatchesMatchTheSequentialOnes()
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        var options = new SequenceOptions { BatchSize = 3, Seed = 9 };
        var sequential = new LetterSequence(letters, options);
        var prefetched = new LetterSequence(letters, options);

        var expected = sequential.Concat(sequential).ToList();
        var actual = prefetched.PrefetchForever(new PrefetchOptions { Workers = 3, MaxQueueSize = 2 }).Take(2 * prefetched.Count).ToList();

        Assert.That(actual, Is.EqualTo(expected), "same batches, same order, same reshuffle at the wrap");
    }
}

using ImageCaptioning.Concurrency;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Concurrency;

[TestFixture]
public sealed class OrderedPrefetchTests
{
    [Test]
    public void Prefetch_runs_ahead_of_the_consumer_but_never_beyond_its_window()
    {
        const int window = 5;
        var started = 0;
        var consumed = 0;
        var maxAhead = 0;
        using var windowFilled = new CountdownEvent(window);
        var results = OrderedPrefetch.Run(40, i =>
        {
            var ahead = Interlocked.Increment(ref started) - Volatile.Read(ref consumed);
            InterlockedMax(ref maxAhead, ahead);
            if (i < window) windowFilled.Signal();
            return new Marker(i);
        }, workers: 3, capacity: window, CancellationToken.None);

        var order = new List<int>();
        foreach (var marker in results)
        {
            if (order.Count == 0)
                // Before consuming anything more, the whole window gets prepared in the background. The timeout only
                // guards against a hang; the assertion is about what happens, not how fast.
                Assert.That(windowFilled.Wait(TimeSpan.FromMinutes(1)), Is.True, "items ahead of the consumer were prepared");
            order.Add(marker.Index);
            Interlocked.Increment(ref consumed);
        }

        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EqualTo(Enumerable.Range(0, 40)));
            Assert.That(maxAhead, Is.LessThanOrEqualTo(window + 1), "started minus consumed stays within the window (+1 for the item being handed over)");
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    private sealed record Marker(int Index) : IDisposable
    {
        public void Dispose() { }
    }
}

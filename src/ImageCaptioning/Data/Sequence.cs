using System.Collections;

namespace ImageCaptioning.Data;

/// <summary>
/// A Keras-style <c>Sequence</c>: <see cref="Count"/> batches per epoch, random access through the indexer, and
/// <see cref="OnEpochEnd"/> to move to the next (reshuffled) epoch. It is also the lazy generator: enumerating it
/// yields one epoch, <see cref="RepeatForever"/> loops like the recipe's <c>while True</c>.
/// The indexer may be called from several threads at once (see <see cref="SequenceExtensions.Prefetch{TBatch}"/>).
/// A batch's content depends only on the options, the epoch number and the index, so a caller that keeps its own epoch
/// count (a trainer, in its checkpoint) reads batches with <see cref="BatchOf"/> and never moves <see cref="Epoch"/>.
/// </summary>
/// <typeparam name="TBatch">What one batch is.</typeparam>
public abstract class Sequence<TBatch> : IEnumerable<TBatch>
{
    private readonly Lock epochLock = new();
    private int preparedEpoch = -1;

    /// <summary>Creates the sequence; null options mean the defaults.</summary>
    protected Sequence(SequenceOptions? options) => Options = options ?? new SequenceOptions();

    /// <summary>Batching and shuffling options.</summary>
    public SequenceOptions Options { get; }

    /// <summary>The current epoch, from 0; <see cref="OnEpochEnd"/> increments it.</summary>
    public int Epoch { get; private set; }

    /// <summary>Batches per epoch.</summary>
    public abstract int Count { get; }

    /// <summary>Batch <paramref name="index"/> of the current epoch.</summary>
    public TBatch this[int index] => BatchOf(Epoch, index);

    /// <summary>
    /// Batch <paramref name="index"/> of epoch <paramref name="epoch"/>, whatever <see cref="Epoch"/> is; it neither
    /// reads nor moves <see cref="Epoch"/>. Calls may overlap only when they ask for the same epoch: the items are
    /// arranged for one epoch at a time.
    /// </summary>
    public TBatch BatchOf(int epoch, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        EnsureEpochPrepared(epoch);
        return GetBatch(index);
    }

    /// <summary>Ends the current epoch: the next batches come from a new order (when shuffling).</summary>
    public void OnEpochEnd()
    {
        lock (epochLock) Epoch++;
    }

    /// <summary>One epoch, batch 0 to Count - 1, then <see cref="OnEpochEnd"/> (not called when abandoned early).</summary>
    public IEnumerator<TBatch> GetEnumerator()
    {
        var count = Count;
        for (var i = 0; i < count; i++) yield return this[i];
        OnEpochEnd();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Epoch after epoch without end, reshuffling at each wrap, until <paramref name="cancellationToken"/> fires.</summary>
    public IEnumerable<TBatch> RepeatForever(CancellationToken cancellationToken = default)
    {
        if (Count == 0) throw new InvalidOperationException("the sequence has no batches to repeat");
        while (true)
        {
            foreach (var batch in this)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return batch;
            }
        }
    }

    /// <summary>Builds batch <paramref name="index"/> of <see cref="PreparedEpoch"/>; the epoch's order is prepared before the first call.</summary>
    protected abstract TBatch GetBatch(int index);

    /// <summary>Arranges the items for <paramref name="epoch"/> (e.g. shuffles); called once per epoch, before its first batch.</summary>
    protected abstract void PrepareEpoch(int epoch);

    /// <summary>The random source of <paramref name="epoch"/>: a function of the seed and the epoch only.</summary>
    protected Random CreateEpochRandom(int epoch)
    {
        // SplitMix64 keeps (seed, epoch) pairs from colliding the way seed + epoch would.
        var z = ((ulong)(uint)Options.Seed << 32 | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)((z ^ (z >> 31)) & int.MaxValue));
    }

    /// <summary>Number of batches for <paramref name="items"/> items under the options.</summary>
    protected int BatchCountFor(long items) =>
        checked((int)(Options.DropLast ? items / Options.BatchSize : (items + Options.BatchSize - 1) / Options.BatchSize));

    /// <summary>The epoch whose order <see cref="GetBatch"/> reads.</summary>
    private protected int PreparedEpoch => Volatile.Read(ref preparedEpoch);

    private void EnsureEpochPrepared(int epoch)
    {
        if (Volatile.Read(ref preparedEpoch) == epoch) return;
        lock (epochLock)
        {
            if (preparedEpoch == epoch) return;
            PrepareEpoch(epoch);
            Volatile.Write(ref preparedEpoch, epoch);
        }
    }
}

using ImageCaptioning.Data;

namespace DataGenerators;

/// <summary>One batch of <see cref="WindowSequence"/>: windows of a series and the value that follows each.</summary>
/// <param name="Starts">Where each window starts in the series.</param>
/// <param name="Windows">The windows, one array of <c>length</c> values each.</param>
/// <param name="Next">The value after each window: what a model would learn to predict.</param>
internal sealed record WindowBatch(int[] Starts, double[][] Windows, double[] Next);

/// <summary>
/// A custom <see cref="Sequence{TBatch}"/>: sliding windows over a time series for next-value prediction. A subclass
/// says how many batches an epoch has (<see cref="Count"/>), how to build batch i (<see cref="GetBatch"/>) and how to
/// order the items of an epoch (<see cref="PrepareEpoch"/>); epochs, enumeration, random access, seeded shuffles and
/// prefetching come from the base class.
/// </summary>
internal sealed class WindowSequence : Sequence<WindowBatch>
{
    private readonly double[] series;
    private readonly int length;
    private readonly TimeSpan workPerBatch;
    private readonly int[] starts;

    /// <param name="series">The values.</param>
    /// <param name="length">Values per window.</param>
    /// <param name="options">Batch size, shuffling and seed.</param>
    /// <param name="workPerBatch">A pause in every batch, standing in for reading a file, to show what prefetching buys.</param>
    public WindowSequence(double[] series, int length, SequenceOptions options, TimeSpan workPerBatch = default) : base(options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(series.Length, length + 1);
        (this.series, this.length, this.workPerBatch) = (series, length, workPerBatch);
        starts = new int[series.Length - length];
    }

    public override int Count => BatchCountFor(starts.Length);

    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < starts.Length; i++) starts[i] = i;
        // CreateEpochRandom depends only on the seed and the epoch: every run sees the same orders.
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(starts);
    }

    // Called from several threads at once when prefetching: it only reads shared state.
    protected override WindowBatch GetBatch(int index)
    {
        if (workPerBatch > TimeSpan.Zero) Thread.Sleep(workPerBatch);
        var batchStarts = starts.AsSpan(index * Options.BatchSize, Math.Min(Options.BatchSize, starts.Length - (index * Options.BatchSize))).ToArray();
        var windows = batchStarts.Select(s => series.AsSpan(s, length).ToArray()).ToArray();
        var next = batchStarts.Select(s => series[s + length]).ToArray();
        return new WindowBatch(batchStarts, windows, next);
    }
}

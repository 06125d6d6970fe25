using ImageCaptioning.Data;

namespace DataGenerators;

/// <summary>
/// Batches of two aligned arrays (the Keras <c>Sequence</c> example): item i of <c>x</c> always travels with item i
/// of <c>y</c>; with shuffling, the items are reordered every epoch.
/// </summary>
public sealed class ArraySequence<TX, TY> : Sequence<ArrayBatch<TX, TY>>
{
    private readonly TX[] x;
    private readonly TY[] y;
    private readonly int[] order;

    /// <summary>Creates the sequence over copies of <paramref name="x"/> and <paramref name="y"/>.</summary>
    public ArraySequence(IReadOnlyList<TX> x, IReadOnlyList<TY> y, SequenceOptions? options = null) : base(options)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"x has {x.Count} items but y has {y.Count}", nameof(y));
        this.x = [.. x];
        this.y = [.. y];
        order = new int[x.Count];
        Count = BatchCountFor(x.Count);
    }

    /// <inheritdoc />
    public override int Count { get; }

    /// <inheritdoc />
    protected override ArrayBatch<TX, TY> GetBatch(int index)
    {
        var start = index * Options.BatchSize;
        var items = order.AsSpan(start, Math.Min(Options.BatchSize, order.Length - start));
        var batchX = new TX[items.Length];
        var batchY = new TY[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            batchX[i] = x[items[i]];
            batchY[i] = y[items[i]];
        }
        return new ArrayBatch<TX, TY>(batchX, batchY);
    }

    /// <inheritdoc />
    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(order);
    }
}

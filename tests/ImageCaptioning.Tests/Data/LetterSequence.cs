using ImageCaptioning.Data;

namespace ImageCaptioning.Tests.Data;

/// <summary>The smallest useful <see cref="Sequence{TBatch}"/>: batches of letters (one string each), in a seeded per-epoch order.</summary>
internal sealed class LetterSequence(string letters, SequenceOptions options) : Sequence<string>(options)
{
    private readonly int[] order = new int[letters.Length];

    public override int Count => BatchCountFor(letters.Length);

    protected override string GetBatch(int index)
    {
        var start = index * Options.BatchSize;
        return string.Concat(order.Skip(start).Take(Options.BatchSize).Select(i => letters[i]));
    }

    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(order);
    }
}

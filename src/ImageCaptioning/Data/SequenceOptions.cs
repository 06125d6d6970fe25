namespace ImageCaptioning.Data;

/// <summary>How a <see cref="Sequence{TBatch}"/> batches and orders its items.</summary>
public record SequenceOptions
{
    /// <summary>Items per batch; the last batch may be smaller unless <see cref="DropLast"/> is set.</summary>
    public int BatchSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 32;

    /// <summary>Reorder the items every epoch (seeded by <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffles: the same seed gives the same order in every epoch of every run.</summary>
    public int Seed { get; init; }

    /// <summary>Leave out a final batch smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }
}

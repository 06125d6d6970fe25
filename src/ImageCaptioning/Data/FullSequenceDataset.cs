using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>
/// One sample per caption: inputs tokens[..^1], targets tokens[1..], both right-padded with the pad id.
/// With length bucketing, each window of shuffled captions is sorted by length before being cut into batches,
/// and the batches are then served in shuffled order.
/// </summary>
internal sealed class FullSequenceDataset : CaptionDataset
{
    private readonly int[] order;
    private readonly int[] batchOrder;

    public FullSequenceDataset(EncodedCaptions captions, CaptionVocabulary vocabulary, IFeatureSource features, CaptionDatasetOptions options)
        : base(captions, vocabulary, features, options, captions.MaxLength - 1, targetsPerSample: captions.MaxLength - 1)
    {
        order = new int[captions.Count];
        Count = BatchCountFor(captions.Count);
        batchOrder = new int[Count];
    }

    public override int Count { get; }

    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        for (var i = 0; i < batchOrder.Length; i++) batchOrder[i] = i;
        var random = Options.Shuffle ? CreateEpochRandom(epoch) : null;
        random?.Shuffle(order);
        if (!Options.BucketByLength) return;

        var window = Options.BatchSize * Options.BucketWindowBatches;
        var keys = new long[Math.Min(window, order.Length)];
        for (var start = 0; start < order.Length; start += window)
        {
            var segment = order.AsSpan(start, Math.Min(window, order.Length - start));
            // Length first, then the shuffled position: a stable sort that keeps the shuffle among equal lengths.
            for (var i = 0; i < segment.Length; i++) keys[i] = (long)Captions.LengthOf(segment[i]) << 32 | (uint)i;
            keys.AsSpan(0, segment.Length).Sort(segment);
        }
        random?.Shuffle(batchOrder);
    }

    protected override Batch GetBatch(int index)
    {
        var batchSize = Options.BatchSize;
        var first = batchOrder[index] * batchSize;
        var items = order.AsSpan(first, Math.Min(batchSize, order.Length - first));
        var sequenceLength = Captions.MaxLength - 1;
        if (Options.PadToLongest)
        {
            sequenceLength = 1;
            foreach (var caption in items) sequenceLength = Math.Max(sequenceLength, Captions.LengthOf(caption) - 1);
        }

        var storage = RentStorage();
        var pad = Vocabulary.PadId;
        var imageRows = 0;
        for (var s = 0; s < items.Length; s++)
        {
            var caption = items[s];
            var tokens = Captions[caption];
            var steps = tokens.Length - 1;
            var inputs = storage.Tokens.AsSpan(s * sequenceLength, sequenceLength);
            var targets = storage.Targets.AsSpan(s * sequenceLength, sequenceLength);
            tokens[..steps].CopyTo(inputs);
            tokens[1..].CopyTo(targets);
            Pad(inputs[steps..], pad);
            Pad(targets[steps..], pad);
            storage.Lengths[s] = steps;
            storage.FeatureIndex[s] = LocalRow(storage.Rows, ref imageRows, Captions.FeatureRows[caption]);
        }
        return Complete(storage, index, items.Length, imageRows, sequenceLength, sequenceLength);
    }
}

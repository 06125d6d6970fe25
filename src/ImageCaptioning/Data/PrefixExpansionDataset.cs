using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>
/// The recipe's generator: caption c of n tokens contributes samples (prefix tokens[..i], target tokens[i]) for
/// i = 1 .. n - 1, captions in epoch order, cut into batches regardless of caption boundaries. Prefix sums of the
/// per-caption sample counts give any batch's first sample by binary search, without materialising samples.
/// </summary>
internal sealed class PrefixExpansionDataset : CaptionDataset
{
    private readonly int[] order;
    private readonly long[] sampleStarts;

    public PrefixExpansionDataset(EncodedCaptions captions, CaptionVocabulary vocabulary, IFeatureSource features, CaptionDatasetOptions options)
        : base(captions, vocabulary, features, options, captions.MaxLength, targetsPerSample: 1)
    {
        order = new int[captions.Count];
        sampleStarts = new long[captions.Count + 1];
        Count = BatchCountFor(captions.Statistics.Samples);
    }

    public override int Count { get; }

    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(order);
        for (var i = 0; i < order.Length; i++) sampleStarts[i + 1] = sampleStarts[i] + Captions.LengthOf(order[i]) - 1;
    }

    protected override Batch GetBatch(int index)
    {
        var batchSize = Options.BatchSize;
        var first = (long)index * batchSize;
        var samples = (int)Math.Min(batchSize, sampleStarts[^1] - first);
        var start = Locate(first);
        var sequenceLength = Options.PadToLongest ? LongestPrefix(start, samples) : Captions.MaxLength;

        var storage = RentStorage();
        var pad = Vocabulary.PadId;
        var imageRows = 0;
        var cursor = start;
        for (var s = 0; s < samples; s++)
        {
            var (position, prefix) = cursor;
            var caption = order[position];
            var tokens = Captions[caption];
            var row = storage.Tokens.AsSpan(s * sequenceLength, sequenceLength);
            tokens[..prefix].CopyTo(row);
            Pad(row[prefix..], pad);
            storage.Targets[s] = tokens[prefix];
            storage.Lengths[s] = prefix;
            storage.FeatureIndex[s] = LocalRow(storage.Rows, ref imageRows, Captions.FeatureRows[caption]);
            cursor = Next(cursor);
        }
        return Complete(storage, index, samples, imageRows, sequenceLength, targetsPerSample: 1);
    }

    /// <summary>The (caption position, prefix length) of sample <paramref name="sample"/> of the epoch.</summary>
    private (int Position, int Prefix) Locate(long sample)
    {
        // The last caption start at or before the sample; empty ranges cannot occur (every caption has a sample).
        var found = Array.BinarySearch(sampleStarts, 0, order.Length, sample);
        var position = found >= 0 ? found : ~found - 1;
        return (position, (int)(sample - sampleStarts[position]) + 1);
    }

    private (int Position, int Prefix) Next((int Position, int Prefix) cursor) =>
        cursor.Prefix + 1 < Captions.LengthOf(order[cursor.Position]) ? (cursor.Position, cursor.Prefix + 1) : (cursor.Position + 1, 1);

    private int LongestPrefix((int Position, int Prefix) cursor, int samples)
    {
        var longest = 1;
        for (var s = 0; s < samples; s++)
        {
            longest = Math.Max(longest, cursor.Prefix);
            cursor = Next(cursor);
        }
        return longest;
    }
}

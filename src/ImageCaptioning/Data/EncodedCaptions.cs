using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>
/// Every usable caption of a corpus, encoded once and stored flat: caption c has tokens
/// <c>Tokens[Offsets[c] .. Offsets[c + 1]]</c> and image features at row <c>FeatureRows[c]</c>. Tokens are kept as
/// int64, the batches' element type, so that building a batch copies whole spans instead of widening token by token.
/// </summary>
internal sealed class EncodedCaptions
{
    private const int MissingIdsShown = 10;

    private EncodedCaptions(long[] tokens, int[] offsets, int[] featureRows, CaptionDatasetStatistics statistics)
    {
        Tokens = tokens;
        Offsets = offsets;
        FeatureRows = featureRows;
        Statistics = statistics;
    }

    public long[] Tokens { get; }
    public int[] Offsets { get; }
    public int[] FeatureRows { get; }
    public CaptionDatasetStatistics Statistics { get; }
    public int Count => FeatureRows.Length;
    public int MaxLength => Statistics.MaxLength;

    public ReadOnlySpan<long> this[int caption] => Tokens.AsSpan(Offsets[caption], Offsets[caption + 1] - Offsets[caption]);

    public int LengthOf(int caption) => Offsets[caption + 1] - Offsets[caption];

    public static EncodedCaptions Encode(CaptionCorpus corpus, CaptionVocabulary vocabulary, IFeatureSource features, CaptionDatasetOptions options)
    {
        var encoded = new List<(int Row, IReadOnlyList<int> Ids)>(corpus.CaptionCount);
        var missing = new List<string>();
        var missingCount = 0;
        for (var image = 0; image < corpus.ImageCount; image++)
        {
            var imageId = corpus.ImageIds[image];
            if (!features.TryGetRow(imageId, out var row))
            {
                if (missing.Count < MissingIdsShown) missing.Add(imageId);
                missingCount++;
                continue;
            }
            foreach (var caption in corpus.CaptionsAt(image)) encoded.Add((row, vocabulary.Encode(caption)));
        }
        if (missingCount > 0 && options.MissingFeatures == MissingFeaturePolicy.Throw)
            throw new MissingFeaturesException(missing, missingCount);

        var maxLength = options.MaxLength ?? Math.Max(2, encoded.Count == 0 ? 2 : encoded.Max(item => item.Ids.Count));
        var tokens = new List<long>();
        var offsets = new List<int> { 0 };
        var rows = new List<int>();
        var images = new HashSet<int>();
        int truncated = 0, tooShort = 0;
        long samples = 0;
        foreach (var (row, ids) in encoded)
        {
            if (ids.Count > maxLength) truncated++;
            var length = Math.Min(ids.Count, maxLength);
            // A caption needs an input and a next token; shorter ones teach nothing.
            if (length < 2)
            {
                tooShort++;
                continue;
            }
            for (var i = 0; i < length; i++) tokens.Add(ids[i]);
            offsets.Add(tokens.Count);
            rows.Add(row);
            images.Add(row);
            samples += options.Mode == CaptionDatasetMode.PrefixExpansion ? length - 1 : 1;
        }
        var statistics = new CaptionDatasetStatistics(images.Count, rows.Count, samples, maxLength, missingCount, truncated, tooShort);
        return new EncodedCaptions([.. tokens], [.. offsets], [.. rows], statistics);
    }
}

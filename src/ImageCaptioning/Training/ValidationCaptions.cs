using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using ImageCaptioning.Text;

namespace ImageCaptioning.Training;

/// <summary>
/// The validation images (features once each) with their reference captions, gathered from a dataset's batches,
/// for scoring captions decoded from the images alone.
/// </summary>
internal sealed class ValidationCaptions
{
    private const int DecodeChunk = 256;

    private readonly float[] features;
    private readonly int dimension;
    private readonly List<IReadOnlyList<IReadOnlyList<string>>> references;

    private ValidationCaptions(float[] features, int dimension, List<IReadOnlyList<IReadOnlyList<string>>> references, int maxLength)
    {
        this.features = features;
        this.dimension = dimension;
        this.references = references;
        MaxLength = maxLength;
    }

    public int ImageCount => references.Count;

    /// <summary>Most tokens a decoded caption may have, the end token included: the dataset's longest caption after its start mark.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Reads batch 0..Count-1 of the dataset's current epoch. Full-sequence samples are whole captions; prefix samples
    /// of one caption come together and in order, the last one (prefix + next word) being the whole caption.
    /// </summary>
    public static ValidationCaptions Collect(ICaptionDataset dataset)
    {
        var vocabulary = dataset.Vocabulary;
        var dimension = dataset.FeatureDimension;
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        var featureValues = new List<float>();
        var references = new List<List<IReadOnlyList<string>>>();
        var pending = new List<int>();
        var pendingRow = -1;
        var prefixSamples = dataset.Mode == CaptionDatasetMode.PrefixExpansion;

        void Flush()
        {
            if (pendingRow >= 0) references[pendingRow].Add(Words(vocabulary, pending));
            pending.Clear();
            pendingRow = -1;
        }

        for (var index = 0; index < dataset.Count; index++)
        {
            using var batch = dataset[index];
            var ids = batch.ImageIds;
            var localRows = new int[ids.Count];
            for (var u = 0; u < ids.Count; u++)
            {
                if (!rows.TryGetValue(ids[u], out var row))
                {
                    row = rows.Count;
                    rows.Add(ids[u], row);
                    foreach (var value in batch.Features.Slice(u * dimension, dimension)) featureValues.Add(value);
                    references.Add([]);
                }
                localRows[u] = row;
            }

            var length = batch.SequenceLength;
            for (var s = 0; s < batch.SampleCount; s++)
            {
                var tokens = batch.Tokens.Slice(s * length, length);
                var steps = (int)batch.Lengths[s];
                var imageRow = localRows[batch.FeatureIndex[s]];
                if (prefixSamples)
                {
                    if (steps == 1) Flush();
                    pending.Clear();
                    foreach (var token in tokens[..steps]) pending.Add((int)token);
                    pending.Add((int)batch.Targets[s]);
                    pendingRow = imageRow;
                }
                else
                {
                    var targets = batch.Targets.Slice(s * length, length);
                    pending.Add((int)tokens[0]);
                    foreach (var token in targets[..steps]) pending.Add((int)token);
                    pendingRow = imageRow;
                    Flush();
                }
            }
        }
        Flush();
        return new ValidationCaptions([.. featureValues], dimension, [.. references], Math.Max(1, dataset.Statistics.MaxLength - 1));
    }

    /// <summary>Corpus BLEU-4 of greedy captions of every image against its references.</summary>
    public double Bleu4(CaptionModel model, CaptionVocabulary vocabulary, Device device)
    {
        if (ImageCount == 0) return 0;
        var decoder = new CaptionDecoder(model, vocabulary.StartId, vocabulary.EndId);
        var options = DecodingOptions.Greedy with { MaxLength = MaxLength };
        var hypotheses = new List<IReadOnlyList<string>>(ImageCount);
        for (var first = 0; first < ImageCount; first += DecodeChunk)
        {
            var count = Math.Min(DecodeChunk, ImageCount - first);
            using var scope = torch.NewDisposeScope();
            var chunk = TensorSpan.Create<float>(features.AsSpan(first * dimension, count * dimension), [count, dimension], device);
            foreach (var caption in decoder.Decode(chunk, options)) hypotheses.Add(Words(vocabulary, caption.Tokens));
        }
        return Bleu.Corpus(hypotheses, references).Bleu4;
    }

    private static string[] Words(CaptionVocabulary vocabulary, IEnumerable<int> ids) =>
        vocabulary.Decode(ids).Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

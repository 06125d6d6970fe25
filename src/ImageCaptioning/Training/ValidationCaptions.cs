using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using ImageCaptioning.Text;

namespace ImageCaptioning.Training;

/// <summary>
/// The images of a dataset (features once each, when kept) with their reference captions, gathered from its batches:
/// the validation images, for scoring captions decoded from the images alone, and the training images, whose
/// references as token ids are the self-critical reward's (<see cref="Reward"/>).
/// </summary>
internal sealed class ValidationCaptions
{
    private const int DecodeChunk = 256;

    private readonly float[] features;
    private readonly int dimension;
    private readonly List<IReadOnlyList<IReadOnlyList<string>>> references;
    private readonly List<IReadOnlyList<int[]>> referenceIds;
    private readonly Dictionary<string, int> rows;

    private ValidationCaptions(float[] features, int dimension, List<IReadOnlyList<IReadOnlyList<string>>> references,
        List<IReadOnlyList<int[]>> referenceIds, Dictionary<string, int> rows, int maxLength)
    {
        this.features = features;
        this.dimension = dimension;
        this.references = references;
        this.referenceIds = referenceIds;
        this.rows = rows;
        MaxLength = maxLength;
    }

    public int ImageCount => references.Count;

    /// <summary>Most tokens a decoded caption may have, the end token included: the dataset's longest caption after its start mark.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Reads batch 0..Count-1 of the dataset's current epoch. Full-sequence samples are whole captions; prefix samples
    /// of one caption come together and in order, the last one (prefix + next word) being the whole caption.
    /// <paramref name="keepFeatures"/> false keeps only the references (a training set's features may not fit in memory
    /// twice), and the captions can then not be decoded.
    /// </summary>
    public static ValidationCaptions Collect(ICaptionDataset dataset, bool keepFeatures = true)
    {
        var vocabulary = dataset.Vocabulary;
        var dimension = dataset.FeatureDimension;
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        var featureValues = new List<float>();
        var references = new List<List<IReadOnlyList<string>>>();
        var referenceIds = new List<List<int[]>>();
        var pending = new List<int>();
        var pendingRow = -1;
        var prefixSamples = dataset.Mode == CaptionDatasetMode.PrefixExpansion;

        void Flush()
        {
            if (pendingRow >= 0)
            {
                references[pendingRow].Add(Words(vocabulary, pending));
                referenceIds[pendingRow].Add([.. pending.Where(id => id != vocabulary.StartId && id != vocabulary.EndId && id != vocabulary.PadId)]);
            }
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
                    if (keepFeatures)
                        foreach (var value in batch.Features.Slice(u * dimension, dimension)) featureValues.Add(value);
                    references.Add([]);
                    referenceIds.Add([]);
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
        return new ValidationCaptions(keepFeatures ? [.. featureValues] : [], dimension, [.. references], [.. referenceIds], rows,
            Math.Max(1, dataset.Statistics.MaxLength - 1));
    }

    /// <summary>The index of image <paramref name="imageId"/> among <see cref="ImageCount"/>: its image index in <see cref="Reward"/>.</summary>
    /// <exception cref="KeyNotFoundException">The dataset had no caption of that image.</exception>
    public int IndexOf(string imageId) =>
        rows.TryGetValue(imageId, out var row) ? row : throw new KeyNotFoundException($"the dataset has no caption of image '{imageId}'");

    /// <summary>
    /// The CIDEr-D reward over these images: each image's references as the model's token ids without the start,
    /// end and pad marks, with document frequencies over all of them.
    /// </summary>
    public CiderDReward Reward() => new(referenceIds);

    /// <summary>Greedy captions of every image, as words; needs the features (see <see cref="Collect"/>).</summary>
    public IReadOnlyList<IReadOnlyList<string>> GreedyCaptions(CaptionModel model, CaptionVocabulary vocabulary, Device device)
    {
        if (features.Length != ImageCount * dimension) throw new InvalidOperationException("the images' features were not kept");
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
        return hypotheses;
    }

    /// <summary>Corpus BLEU-4 of <paramref name="captions"/> (one per image, in order) against the references.</summary>
    public double Bleu4(IReadOnlyList<IReadOnlyList<string>> captions) => ImageCount == 0 ? 0 : Bleu.Corpus(captions, references).Bleu4;

    /// <summary>Corpus CIDEr-D of <paramref name="captions"/> against the references, as coco-caption scores a test set.</summary>
    public double CiderD(IReadOnlyList<IReadOnlyList<string>> captions) => ImageCount == 0 ? 0 : Evaluation.CiderD.Compute(captions, references).Score;

    private static string[] Words(CaptionVocabulary vocabulary, IEnumerable<int> ids) =>
        vocabulary.Decode(ids).Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

using ImageCaptioning.Text;
using Microsoft.Extensions.Logging;
using Microsoft.ML.Tokenizers;

namespace ImageCaptioning.Data;

/// <summary>
/// The lazy caption-batch generator: captions are encoded once up front, and each batch is built on demand from
/// the encoded tokens and the feature source into pooled buffers. Create one with <see cref="Create(CaptionCorpus, Tokenizer, IFeatureSource, CaptionDatasetOptions?, ILogger?)"/> (any tokenizer) or with a <see cref="CaptionVocabulary"/>.
/// </summary>
public abstract class CaptionDataset : Sequence<Batch>, ICaptionDataset
{
    private readonly BatchStoragePool pool;

    private protected CaptionDataset(EncodedCaptions captions, CaptionVocabulary vocabulary, IFeatureSource features,
        CaptionDatasetOptions options, int maxSequenceLength, int targetsPerSample) : base(options)
    {
        Captions = captions;
        Vocabulary = vocabulary;
        Features = features;
        Options = options;
        pool = new BatchStoragePool(options.BatchSize, features.Dimension, maxSequenceLength, targetsPerSample);
    }

    /// <summary>
    /// Encodes <paramref name="corpus"/> (already cleaned) with any Microsoft.ML.Tokenizers
    /// <paramref name="tokenizer"/> and pairs it with <paramref name="features"/>; the model vocabulary is
    /// <see cref="CaptionVocabulary.Create(Tokenizer, IEnumerable{string}, CaptionVocabularyOptions?)"/> of this corpus
    /// (so pass the training corpus; datasets of other splits take that <see cref="Vocabulary"/>). Counts of skipped
    /// and truncated captions go to <paramref name="logger"/>.
    /// </summary>
    /// <exception cref="MissingFeaturesException">Images lack features and the policy is <see cref="MissingFeaturePolicy.Throw"/>.</exception>
    public static CaptionDataset Create(CaptionCorpus corpus, Tokenizer tokenizer, IFeatureSource features,
        CaptionDatasetOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Create(corpus, CaptionVocabulary.Create(tokenizer, corpus.Entries().Select(e => e.Caption)), features, options, logger);
    }

    /// <summary>
    /// Encodes <paramref name="corpus"/> (already cleaned) with <paramref name="vocabulary"/> and pairs it with
    /// <paramref name="features"/>. Counts of skipped and truncated captions go to <paramref name="logger"/>.
    /// </summary>
    /// <exception cref="MissingFeaturesException">Images lack features and the policy is <see cref="MissingFeaturePolicy.Throw"/>.</exception>
    public static CaptionDataset Create(CaptionCorpus corpus, CaptionVocabulary vocabulary, IFeatureSource features,
        CaptionDatasetOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(features);
        options ??= new CaptionDatasetOptions();
        var captions = EncodedCaptions.Encode(corpus, vocabulary, features, options);
        Log(logger, captions.Statistics, options.Mode);
        return options.Mode switch
        {
            CaptionDatasetMode.PrefixExpansion => new PrefixExpansionDataset(captions, vocabulary, features, options),
            CaptionDatasetMode.FullSequence => new FullSequenceDataset(captions, vocabulary, features, options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "unknown dataset mode"),
        };
    }

    /// <summary>The options in use.</summary>
    public new CaptionDatasetOptions Options { get; }

    /// <inheritdoc />
    public CaptionDatasetMode Mode => Options.Mode;

    /// <inheritdoc />
    public CaptionVocabulary Vocabulary { get; }

    /// <summary>Where feature rows are read from.</summary>
    public IFeatureSource Features { get; }

    /// <inheritdoc />
    public int FeatureDimension => Features.Dimension;

    /// <inheritdoc />
    public CaptionDatasetStatistics Statistics => Captions.Statistics;

    private protected EncodedCaptions Captions { get; }

    /// <summary>Fills the features of the batch's distinct rows and wraps the storage.</summary>
    private protected Batch Complete(BatchStorage storage, int index, int samples, int imageRows, int sequenceLength, int targetsPerSample)
    {
        var dimension = Features.Dimension;
        try
        {
            Features.Read(storage.Rows.AsSpan(0, imageRows), storage.Features.AsSpan(0, imageRows * dimension));
        }
        catch
        {
            pool.Return(storage);
            throw;
        }
        return new Batch(pool, storage, Features.ImageIds, index, PreparedEpoch, samples, imageRows, dimension, sequenceLength, targetsPerSample);
    }

    private protected BatchStorage RentStorage() => pool.Rent();

    /// <summary>The local row of feature-source row <paramref name="row"/>, adding it when new (batches hold few distinct images).</summary>
    private protected static int LocalRow(int[] rows, ref int count, int row)
    {
        for (var i = count - 1; i >= 0; i--)
            if (rows[i] == row) return i;
        rows[count] = row;
        return count++;
    }

    private protected static void Pad(Span<long> destination, long pad) => destination.Fill(pad);

    private static void Log(ILogger? logger, CaptionDatasetStatistics statistics, CaptionDatasetMode mode)
    {
        if (logger is null) return;
        logger.LogInformation("Caption dataset ({Mode}): {Images} images, {Captions} captions, {Samples} samples, max length {MaxLength}",
            mode, statistics.Images, statistics.Captions, statistics.Samples, statistics.MaxLength);
        if (statistics.MissingFeatureImages > 0)
            logger.LogWarning("Skipped {Count} images without features", statistics.MissingFeatureImages);
        if (statistics.TruncatedCaptions > 0)
            logger.LogWarning("Truncated {Count} captions to {MaxLength} tokens", statistics.TruncatedCaptions, statistics.MaxLength);
        if (statistics.TooShortCaptions > 0)
            logger.LogWarning("Skipped {Count} captions with fewer than 2 tokens", statistics.TooShortCaptions);
    }
}

using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>
/// Training batches of (image features, caption tokens), both a lazy generator (enumerate one epoch) and a Keras-style
/// sequence (<see cref="Count"/>, indexer, <see cref="OnEpochEnd"/>). Each <see cref="Batch"/> must be disposed to
/// return its buffers to the pool.
/// </summary>
public interface ICaptionDataset : IEnumerable<Batch>
{
    /// <summary>What a sample is.</summary>
    CaptionDatasetMode Mode { get; }

    /// <summary>Batches per epoch (exact).</summary>
    int Count { get; }

    /// <summary>Batch <paramref name="index"/> of the current epoch.</summary>
    Batch this[int index] { get; }

    /// <summary>Batch <paramref name="index"/> of epoch <paramref name="epoch"/>, without reading or moving <see cref="Epoch"/>.</summary>
    Batch BatchOf(int epoch, int index);

    /// <summary>The current epoch of the indexer and the enumeration; <see cref="BatchOf"/> does not use it.</summary>
    int Epoch { get; }

    /// <summary>Moves to the next epoch (a new shuffle).</summary>
    void OnEpochEnd();

    /// <summary>Batching and shuffling: with the epoch number, <see cref="SequenceOptions.Seed"/> decides every epoch's order.</summary>
    CaptionDatasetOptions Options { get; }

    /// <summary>The vocabulary (and tokenizer) that encoded the captions.</summary>
    CaptionVocabulary Vocabulary { get; }

    /// <summary>Floats per image feature row.</summary>
    int FeatureDimension { get; }

    /// <summary>What was kept and left out.</summary>
    CaptionDatasetStatistics Statistics { get; }
}

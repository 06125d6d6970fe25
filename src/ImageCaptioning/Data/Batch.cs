
namespace ImageCaptioning.Data;

/// <summary>
/// One training batch in host memory. Each distinct image's feature row is stored once (<see cref="Features"/>,
/// <see cref="ImageRowCount"/> rows) and every sample points at its row through <see cref="FeatureIndex"/>.
/// Tokens and targets are padded with the tokenizer's pad id. Dispose the batch to return its buffers to the pool;
/// its spans are invalid afterwards.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly BatchStoragePool pool;
    private readonly IReadOnlyList<string> sourceImageIds;
    private BatchStorage? storage;

    internal Batch(BatchStoragePool pool, BatchStorage storage, IReadOnlyList<string> sourceImageIds, int index, int epoch,
        int sampleCount, int imageRowCount, int featureDimension, int sequenceLength, int targetsPerSample)
    {
        this.pool = pool;
        this.storage = storage;
        this.sourceImageIds = sourceImageIds;
        Index = index;
        Epoch = epoch;
        SampleCount = sampleCount;
        ImageRowCount = imageRowCount;
        FeatureDimension = featureDimension;
        SequenceLength = sequenceLength;
        TargetsPerSample = targetsPerSample;
    }

    /// <summary>The batch's index in its epoch.</summary>
    public int Index { get; }

    /// <summary>The epoch it belongs to.</summary>
    public int Epoch { get; }

    /// <summary>Samples (N).</summary>
    public int SampleCount { get; }

    /// <summary>Distinct images (U): rows of <see cref="Features"/>.</summary>
    public int ImageRowCount { get; }

    /// <summary>Floats per feature row (D).</summary>
    public int FeatureDimension { get; }

    /// <summary>Token positions per sample (T).</summary>
    public int SequenceLength { get; }

    /// <summary>1 in prefix-expansion mode (the next token), <see cref="SequenceLength"/> in full-sequence mode.</summary>
    public int TargetsPerSample { get; }

    /// <summary>[U, D] feature rows, row-major.</summary>
    public ReadOnlySpan<float> Features => Storage.Features.AsSpan(0, ImageRowCount * FeatureDimension);

    /// <summary>[N]: the row of <see cref="Features"/> of each sample.</summary>
    public ReadOnlySpan<long> FeatureIndex => Storage.FeatureIndex.AsSpan(0, SampleCount);

    /// <summary>[N, T] input tokens, right-padded.</summary>
    public ReadOnlySpan<long> Tokens => Storage.Tokens.AsSpan(0, SampleCount * SequenceLength);

    /// <summary>[N] next tokens (prefix expansion) or [N, T] shifted tokens, right-padded (full sequence).</summary>
    public ReadOnlySpan<long> Targets => Storage.Targets.AsSpan(0, SampleCount * TargetsPerSample);

    /// <summary>[N] unpadded input lengths.</summary>
    public ReadOnlySpan<long> Lengths => Storage.Lengths.AsSpan(0, SampleCount);

    /// <summary>The image id of each feature row (U ids).</summary>
    public IReadOnlyList<string> ImageIds
    {
        get
        {
            var rows = Storage.Rows;
            var ids = new string[ImageRowCount];
            for (var i = 0; i < ids.Length; i++) ids[i] = sourceImageIds[rows[i]];
            return ids;
        }
    }

    private BatchStorage Storage
    {
        get
        {
            ObjectDisposedException.ThrowIf(storage is null, this);
            return storage;
        }
    }

    /// <summary>
    /// Copies the batch to <paramref name="device"/> (one copy per tensor): features [U, D] float32, feature index
    /// [N], tokens [N, T], targets [N] or [N, T] and lengths [N], all int64.
    /// </summary>
    public BatchTensors ToTensors(Device? device = null)
    {
        var target = device ?? torch.CPU;
        var created = new List<Tensor>(5);
        try
        {
            Tensor Add(Tensor tensor)
            {
                created.Add(tensor);
                return tensor;
            }
            long n = SampleCount;
            return new BatchTensors(
                Add(TensorSpan.Create(Features, [ImageRowCount, FeatureDimension], target)),
                Add(TensorSpan.Create(FeatureIndex, [n], target)),
                Add(TensorSpan.Create(Tokens, [n, SequenceLength], target)),
                Add(TensorSpan.Create(Targets, TargetsPerSample == 1 ? [n] : [n, SequenceLength], target)),
                Add(TensorSpan.Create(Lengths, [n], target)));
        }
        catch
        {
            foreach (var tensor in created) tensor.Dispose();
            throw;
        }
    }

    /// <summary>Returns the buffers to the dataset's pool.</summary>
    public void Dispose()
    {
        var owned = Interlocked.Exchange(ref storage, null);
        if (owned is not null) pool.Return(owned);
    }
}

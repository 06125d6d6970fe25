
namespace ImageCaptioning.Data;

/// <summary>A <see cref="Batch"/> on a device. Disposing it disposes every tensor.</summary>
/// <param name="Features">[U, D] float32: each distinct image's features once.</param>
/// <param name="FeatureIndex">[N] int64: the row of <paramref name="Features"/> of each sample.</param>
/// <param name="Tokens">[N, T] int64 input tokens.</param>
/// <param name="Targets">[N] or [N, T] int64 targets, pad id where there is nothing to predict.</param>
/// <param name="Lengths">[N] int64 unpadded input lengths.</param>
public sealed record BatchTensors(Tensor Features, Tensor FeatureIndex, Tensor Tokens, Tensor Targets, Tensor Lengths) : IDisposable
{
    /// <summary>[N, D]: each sample's features, expanded on the device with <c>index_select</c>.</summary>
    public Tensor SampleFeatures() => Features.index_select(0, FeatureIndex);

    /// <inheritdoc />
    public void Dispose()
    {
        Features.Dispose();
        FeatureIndex.Dispose();
        Tokens.Dispose();
        Targets.Dispose();
        Lengths.Dispose();
    }
}


namespace ImageCaptioning.Modeling;

/// <summary>
/// What a decoder carries from one step to the next for N sequences: the LSTM state and, for the merge
/// architecture, the projected image. Owns its tensors.
/// </summary>
public sealed class DecoderState : IDisposable
{
    internal DecoderState(Tensor h, Tensor c, Tensor? image)
    {
        H = h.DetachFromDisposeScope();
        C = c.DetachFromDisposeScope();
        Image = image?.DetachFromDisposeScope();
    }

    /// <summary>Hidden state [layers, N, hidden].</summary>
    public Tensor H { get; }

    /// <summary>Cell state [layers, N, hidden].</summary>
    public Tensor C { get; }

    /// <summary>The projected image [N, hidden] (merge architecture only).</summary>
    public Tensor? Image { get; }

    /// <summary>Number of sequences.</summary>
    public long Count => H.size(1);

    /// <summary>The state of the sequences at <paramref name="indices"/> (beam reordering and expansion).</summary>
    public DecoderState Select(Tensor indices)
    {
        using var scope = torch.NewDisposeScope();
        return new DecoderState(H.index_select(1, indices), C.index_select(1, indices), Image?.index_select(0, indices));
    }

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        H.Dispose();
        C.Dispose();
        Image?.Dispose();
    }
}

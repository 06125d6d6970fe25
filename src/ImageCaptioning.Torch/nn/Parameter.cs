using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch.Modules;

/// <summary>
/// A module's trainable tensor: a leaf that requires grad, owned by its module (never by a dispose scope).
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>Makes a parameter sharing <paramref name="data"/>'s storage; <paramref name="data"/> stays the caller's.</summary>
    public Parameter(Tensor data, bool requires_grad = true) : base(NativeMethods.ic_tensor_detach(data.Handle))
    {
        DetachFromDisposeScope();
        this.requires_grad = requires_grad;
    }
}

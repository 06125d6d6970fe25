using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Autograd, copies between devices and types, and in-place initialisation.
public partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool requires_grad
    {
        get => NativeMethods.ic_tensor_requires_grad(Handle) != 0;
        set => ThrowHelper.CheckStatus(NativeMethods.ic_tensor_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>Sets <see cref="requires_grad"/> and returns this tensor.</summary>
    public Tensor requires_grad_(bool value = true)
    {
        requires_grad = value;
        return this;
    }

    /// <summary>
    /// The accumulated gradient as a new tensor object sharing its storage, or null before any backward pass.
    /// </summary>
    public Tensor? grad
    {
        get
        {
            ThrowHelper.CheckStatus(NativeMethods.ic_tensor_grad(Handle, out var gradient));
            return gradient == IntPtr.Zero ? null : New(gradient);
        }
    }

    /// <summary>Back-propagates from this (scalar) tensor, or with an explicit output gradient.</summary>
    public void backward(Tensor? gradient = null, bool retainGraph = false) =>
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_backward(Handle, gradient?.Handle ?? TensorHandle.Null, retainGraph ? 1 : 0));

    /// <summary>Clears the gradient: to none (PyTorch 2's default) or to zeros.</summary>
    public void zero_grad(bool setToNone = true) =>
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_zero_grad(Handle, setToNone ? 1 : 0));

    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor detach() => New(NativeMethods.ic_tensor_detach(Handle));

    /// <summary>A copy with its own storage (differentiable).</summary>
    public Tensor clone() => New(NativeMethods.ic_tensor_clone(Handle));

    /// <summary>This tensor on <paramref name="target"/> (the same object's data when already there).</summary>
    public Tensor to(Device target) => to(dtype, target);

    /// <summary>This tensor converted to <paramref name="type"/>.</summary>
    public Tensor to(ScalarType type) => to(type, device);

    /// <summary>This tensor converted to <paramref name="type"/> on <paramref name="target"/>.</summary>
    public Tensor to(ScalarType type, Device target, bool copy = false) =>
        New(NativeMethods.ic_tensor_to(Handle, (int)type, (int)target.Type, target.Index, copy ? 1 : 0));

    /// <summary>This tensor in host memory.</summary>
    public Tensor cpu() => to(Device.Cpu);

    /// <summary>This tensor on CUDA GPU <paramref name="index"/>.</summary>
    public Tensor cuda(int index = 0) => to(Device.Cuda(index));

    /// <summary>Copies <paramref name="source"/> into this tensor in place (broadcasting), outside autograd.</summary>
    public Tensor copy_(Tensor source)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_copy_(Handle, source.Handle));
        return this;
    }

    /// <summary>Fills with <paramref name="value"/> in place.</summary>
    public Tensor fill_(double value)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_fill_(Handle, value));
        return this;
    }

    /// <summary>Fills with zeros in place.</summary>
    public Tensor zero_()
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_zero_(Handle));
        return this;
    }

    /// <summary>Fills in place from U(from, to), drawing from libtorch's generator.</summary>
    public Tensor uniform_(double from = 0, double to = 1)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_uniform_(Handle, from, to));
        return this;
    }

    /// <summary>Fills in place from N(mean, std²), drawing from libtorch's generator.</summary>
    public Tensor normal_(double mean = 0, double std = 1)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_normal_(Handle, mean, std));
        return this;
    }
}

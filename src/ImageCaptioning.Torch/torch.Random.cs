using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

public static partial class torch
{
    /// <summary>
    /// A copy of libtorch's default CPU generator state as a uint8 tensor (<c>torch.get_rng_state()</c>): restore
    /// it with <see cref="set_rng_state"/> to replay the same random draws (dropout masks, sampling).
    /// </summary>
    public static Tensor get_rng_state() => new(NativeMethods.ic_get_rng_state());

    /// <summary>
    /// Restores the default CPU generator from a state returned by <see cref="get_rng_state"/>
    /// (<c>torch.set_rng_state</c>).
    /// </summary>
    /// <exception cref="TorchException">The tensor is not a CPU uint8 generator state of the right size.</exception>
    public static void set_rng_state(Tensor new_state)
    {
        ArgumentNullException.ThrowIfNull(new_state);
        ThrowHelper.CheckStatus(NativeMethods.ic_set_rng_state(new_state.Handle));
    }
}

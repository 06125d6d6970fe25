using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Reductions, selection and sampling.
public partial class Tensor
{
    /// <summary>Sum of all elements.</summary>
    public Tensor sum() => New(NativeMethods.ic_sum_all(Handle));

    /// <summary>Sum over <paramref name="dims"/>.</summary>
    public unsafe Tensor sum(long[] dims, bool keepdim = false)
    {
        fixed (long* p = dims) return New(NativeMethods.ic_sum_dims(Handle, p, dims.Length, keepdim ? 1 : 0));
    }

    /// <summary>Sum over one dimension.</summary>
    public Tensor sum(long dim, bool keepdim = false) => sum([dim], keepdim);

    /// <summary>Mean of all elements.</summary>
    public Tensor mean() => New(NativeMethods.ic_mean_all(Handle));

    /// <summary>Mean over <paramref name="dims"/>.</summary>
    public unsafe Tensor mean(long[] dims, bool keepdim = false)
    {
        fixed (long* p = dims) return New(NativeMethods.ic_mean_dims(Handle, p, dims.Length, keepdim ? 1 : 0));
    }

    /// <summary>Largest element.</summary>
    public Tensor max() => New(NativeMethods.ic_max_all(Handle));

    /// <summary>Smallest element.</summary>
    public Tensor min() => New(NativeMethods.ic_min_all(Handle));

    /// <summary>Largest values along <paramref name="dim"/> and their indices.</summary>
    public (Tensor values, Tensor indexes) max(long dim, bool keepdim = false)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_max_dim(Handle, dim, keepdim ? 1 : 0, out var values, out var indices));
        return (New(values), New(indices));
    }

    /// <summary>Index of the largest element (flattened), or along <paramref name="dim"/>.</summary>
    public Tensor argmax(long? dim = null, bool keepdim = false) =>
        New(NativeMethods.ic_argmax(Handle, dim.HasValue ? 1 : 0, dim ?? 0, keepdim ? 1 : 0));

    /// <summary>The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/> and their indices.</summary>
    public (Tensor values, Tensor indexes) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, out var values, out var indices));
        return (New(values), New(indices));
    }

    /// <summary>Sorted values along <paramref name="dim"/> and the permutation that sorts them.</summary>
    public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false, bool stable = false)
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_sort(Handle, dim, descending ? 1 : 0, stable ? 1 : 0, out var values, out var indices));
        return (New(values), New(indices));
    }

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public Tensor softmax(long dim) => New(NativeMethods.ic_softmax(Handle, dim));

    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    public Tensor log_softmax(long dim) => New(NativeMethods.ic_log_softmax(Handle, dim));

    /// <summary>log(sum(exp(x))) along <paramref name="dim"/>, computed stably.</summary>
    public Tensor logsumexp(long dim, bool keepdim = false) => New(NativeMethods.ic_logsumexp(Handle, dim, keepdim ? 1 : 0));

    /// <summary>Cumulative sum along <paramref name="dim"/>.</summary>
    public Tensor cumsum(long dim) => New(NativeMethods.ic_cumsum(Handle, dim));

    /// <summary>Draws <paramref name="samples"/> indices per row from these (unnormalised) probabilities.</summary>
    public Tensor multinomial(long samples, bool replacement = false) =>
        New(NativeMethods.ic_multinomial(Handle, samples, replacement ? 1 : 0));
}

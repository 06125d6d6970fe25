using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Views, layout and indexing.
public partial class Tensor
{
    /// <summary>Same data with a new shape (a view when possible); one dimension may be -1.</summary>
    public unsafe Tensor reshape(params long[] shape)
    {
        fixed (long* p = shape) return New(NativeMethods.ic_reshape(Handle, p, shape.Length));
    }

    /// <summary>A view with a new shape; fails when the layout does not allow one.</summary>
    public unsafe Tensor view(params long[] shape)
    {
        fixed (long* p = shape) return New(NativeMethods.ic_view(Handle, p, shape.Length));
    }

    /// <summary>Reorders dimensions.</summary>
    public unsafe Tensor permute(params long[] dims)
    {
        fixed (long* p = dims) return New(NativeMethods.ic_permute(Handle, p, dims.Length));
    }

    /// <summary>Broadcasts singleton dimensions to <paramref name="shape"/> without copying (-1 keeps a size).</summary>
    public unsafe Tensor expand(params long[] shape)
    {
        fixed (long* p = shape) return New(NativeMethods.ic_expand(Handle, p, shape.Length));
    }

    /// <summary>Swaps two dimensions.</summary>
    public Tensor transpose(long dim0, long dim1) => New(NativeMethods.ic_transpose(Handle, dim0, dim1));
    /// <summary>A row-major copy, or this data when already contiguous.</summary>
    public Tensor contiguous() => New(NativeMethods.ic_contiguous(Handle));
    /// <summary>The slice [start, start + length) of <paramref name="dim"/>, as a view.</summary>
    public Tensor narrow(long dim, long start, long length) => New(NativeMethods.ic_narrow(Handle, dim, start, length));
    /// <summary>Index <paramref name="index"/> of <paramref name="dim"/>, which is removed.</summary>
    public Tensor select(long dim, long index) => New(NativeMethods.ic_select(Handle, dim, index));
    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor squeeze() => New(NativeMethods.ic_squeeze_all(Handle));
    /// <summary>Removes <paramref name="dim"/> if its size is 1.</summary>
    public Tensor squeeze(long dim) => New(NativeMethods.ic_squeeze_dim(Handle, dim));
    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor unsqueeze(long dim) => New(NativeMethods.ic_unsqueeze(Handle, dim));
    /// <summary>Merges dimensions <paramref name="startDim"/>..<paramref name="endDim"/>.</summary>
    public Tensor flatten(long startDim = 0, long endDim = -1) => New(NativeMethods.ic_flatten(Handle, startDim, endDim));
    /// <summary>Rows (or other slices) of <paramref name="dim"/> picked by a 1-d int64 index.</summary>
    public Tensor index_select(long dim, Tensor index) => New(NativeMethods.ic_index_select(Handle, dim, index.Handle));
    /// <summary>Gathers values along <paramref name="dim"/> at <paramref name="index"/>.</summary>
    public Tensor gather(long dim, Tensor index) => New(NativeMethods.ic_gather(Handle, dim, index.Handle));

    /// <summary>Indices of the non-zero elements, [count, ndim] int64.</summary>
    public Tensor nonzero() => New(NativeMethods.ic_nonzero(Handle));
    /// <summary>Repeats each slice of <paramref name="dim"/> <paramref name="repeats"/> times in place (beam expansion).</summary>
    public Tensor repeat_interleave(long repeats, long dim) => New(NativeMethods.ic_repeat_interleave(Handle, repeats, dim));
}

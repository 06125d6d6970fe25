using System.Runtime.InteropServices;
using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

/// <summary>
/// A libtorch tensor. It owns one native handle: dispose it (directly, with <c>using</c>, or through a
/// <see cref="DisposeScope"/>) to free native memory promptly. Operations return new tensors, registered in the
/// thread's current dispose scope.
/// </summary>
public partial class Tensor : IDisposable
{
    private TensorHandle handle;

    internal Tensor(IntPtr nativeHandle)
    {
        handle = new TensorHandle(ThrowHelper.CheckHandle(nativeHandle));
        DisposeScope.Register(this);
    }

    internal TensorHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    internal DisposeScope? OwningScope { get; set; }

    /// <summary>Number of native tensor handles currently alive in the process (for leak tests).</summary>
    public static long LiveCount => TensorHandle.LiveCount;

    /// <summary>Whether the tensor has been disposed.</summary>
    public bool IsDisposed => handle.IsClosed;

    /// <summary>Number of dimensions.</summary>
    public int ndim => NativeMethods.ic_tensor_ndim(Handle);

    /// <summary>Number of dimensions.</summary>
    public int dim() => ndim;

    /// <summary>Number of elements.</summary>
    public long numel() => NativeMethods.ic_tensor_numel(Handle);

    /// <summary>Size of each dimension.</summary>
    public unsafe long[] shape
    {
        get
        {
            var sizes = new long[ndim];
            fixed (long* p = sizes) NativeMethods.ic_tensor_shape(Handle, p);
            return sizes;
        }
    }

    /// <summary>Size of dimension <paramref name="dimension"/> (negative counts from the end).</summary>
    public long size(int dimension)
    {
        var sizes = shape;
        var d = dimension < 0 ? dimension + sizes.Length : dimension;
        if ((uint)d >= (uint)sizes.Length)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"tensor has {sizes.Length} dimensions");
        return sizes[d];
    }

    /// <summary>Element type.</summary>
    public ScalarType dtype => (ScalarType)NativeMethods.ic_tensor_dtype(Handle);

    /// <summary>The device holding the data.</summary>
    public Device device => new((DeviceType)NativeMethods.ic_tensor_device_type(Handle), NativeMethods.ic_tensor_device_index(Handle));

    /// <summary>Whether the elements are laid out densely in row-major order.</summary>
    public bool is_contiguous() => NativeMethods.ic_tensor_is_contiguous(Handle) != 0;

    /// <summary>Whether the tensor is in oneDNN's (MKL-DNN's) opaque blocked layout rather than strided.</summary>
    public bool is_mkldnn => NativeMethods.ic_tensor_is_mkldnn(Handle) != 0;

    /// <summary>
    /// A copy of this float CPU tensor in oneDNN's blocked layout. Convolutions, pooling, batch norm, ReLU and
    /// addition then run without converting layouts between layers (inference only: no autograd).
    /// </summary>
    public Tensor to_mkldnn() => New(NativeMethods.ic_tensor_to_mkldnn(Handle));

    /// <summary>A strided copy of an <see cref="is_mkldnn"/> tensor (this tensor again when already strided).</summary>
    public Tensor to_dense() => New(NativeMethods.ic_tensor_to_dense(Handle));

    /// <summary>Frees the native tensor now.</summary>
    public void Dispose()
    {
        OwningScope?.Remove(this);
        OwningScope = null;
        handle.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Takes the tensor out of its dispose scope into the outer one (or out of every scope).</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        var scope = OwningScope;
        if (scope is null) return this;
        scope.Remove(this);
        OwningScope = null;
        scope.Outer?.Adopt(this);
        return this;
    }

    /// <summary>Takes the tensor out of every dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        OwningScope?.Remove(this);
        OwningScope = null;
        return this;
    }

    /// <summary>Swaps in another native tensor, keeping this object's identity (used by Module.to).</summary>
    internal void ReplaceWith(Tensor other)
    {
        other.DetachFromDisposeScope();
        (handle, other.handle) = (other.handle, handle);
        other.Dispose();
    }

    /// <summary>A second tensor object for the same data and autograd history (its own handle to dispose).</summary>
    public Tensor alias() => new(NativeMethods.ic_tensor_alias(Handle));

    /// <summary>A copy of all elements, in row-major order.</summary>
    public unsafe T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[numel()];
        fixed (T* p = result)
            ThrowHelper.CheckStatus(NativeMethods.ic_tensor_copy_to(Handle, p, (long)result.Length * sizeof(T)));
        return result;
    }

    /// <summary>Copies all elements, in row-major order, into <paramref name="destination"/> (exactly numel long).</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckElementType<T>();
        fixed (T* p = destination)
            ThrowHelper.CheckStatus(NativeMethods.ic_tensor_copy_to(Handle, p, (long)destination.Length * sizeof(T)));
    }

    /// <summary>Overwrites all elements from <paramref name="source"/> (exactly numel long), keeping the storage.</summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        CheckElementType<T>();
        fixed (T* p = source)
            ThrowHelper.CheckStatus(NativeMethods.ic_tensor_copy_from(Handle, p, (long)source.Length * sizeof(T)));
    }

    /// <summary>
    /// A view of a contiguous CPU tensor's memory, valid while the tensor lives (zero-copy reads and writes).
    /// </summary>
    public unsafe Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var data = ThrowHelper.CheckHandle(NativeMethods.ic_tensor_data_ptr(Handle));
        return new Span<T>((void*)data, checked((int)numel()));
    }

    /// <summary>The single element as a <typeparamref name="T"/>.</summary>
    public T item<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(long) || typeof(T) == typeof(int))
        {
            ThrowHelper.CheckStatus(NativeMethods.ic_tensor_item_int64(Handle, out var integer));
            return typeof(T) == typeof(long) ? (T)(object)integer : (T)(object)checked((int)integer);
        }
        ThrowHelper.CheckStatus(NativeMethods.ic_tensor_item_double(Handle, out var value));
        if (typeof(T) == typeof(double)) return (T)(object)value;
        if (typeof(T) == typeof(float)) return (T)(object)(float)value;
        if (typeof(T) == typeof(bool)) return (T)(object)(value != 0);
        throw new NotSupportedException($"item<{typeof(T).Name}> is not supported");
    }

    /// <summary>libtorch's printout of the tensor.</summary>
    public override string ToString() =>
        handle.IsClosed ? "Tensor(disposed)" : ThrowHelper.TakeString(NativeMethods.ic_tensor_to_string(Handle)) ?? "";

    private void CheckElementType<T>() where T : unmanaged
    {
        var expected = ScalarTypeExtensions.Of<T>();
        var actual = dtype;
        if (expected != actual)
            throw new InvalidOperationException($"tensor holds {actual}, not {typeof(T).Name} ({expected})");
    }

    internal static IntPtr[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var result = new IntPtr[tensors.Count];
        for (var i = 0; i < result.Length; i++) result[i] = tensors[i].Handle.DangerousGetHandle();
        return result;
    }
}

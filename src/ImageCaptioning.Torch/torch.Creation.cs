using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Tensor factories.
public static partial class torch
{
    /// <summary>A tensor holding a copy of <paramref name="data"/>, shaped <paramref name="shape"/> (1-d when null).</summary>
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, long[]? shape = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged
    {
        shape ??= [data.Length];
        long count = 1;
        foreach (var size in shape) count *= size;
        if (count != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} elements but {data.Length} were given", nameof(shape));
        var target = device ?? Device.Cpu;
        fixed (T* p = data)
        fixed (long* s = shape)
            return new Tensor(NativeMethods.ic_tensor_from_data(p, (int)ScalarTypeExtensions.Of<T>(), s, shape.Length,
                (int)target.Type, target.Index, requires_grad ? 1 : 0));
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor tensor<T>(T[] data, long[]? shape = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged => tensor((ReadOnlySpan<T>)data, shape, device, requires_grad);

    /// <summary>A tensor with a copy of a rectangular 2-d array.</summary>
    public static unsafe Tensor tensor<T>(T[,] data, Device? device = null) where T : unmanaged
    {
        fixed (T* p = data)
            return tensor(new ReadOnlySpan<T>(p, data.Length), [data.GetLength(0), data.GetLength(1)], device);
    }

    /// <summary>A 0-d tensor holding <paramref name="value"/>.</summary>
    public static Tensor scalar_tensor(float value, Device? device = null) => tensor([value], [], device);

    /// <summary>Uninitialised memory.</summary>
    public static unsafe Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false)
    {
        var target = device ?? Device.Cpu;
        fixed (long* s = shape)
            return new Tensor(NativeMethods.ic_tensor_empty(s, shape.Length, (int)dtype, (int)target.Type, target.Index, requires_grad ? 1 : 0));
    }

    /// <summary>Filled with <paramref name="value"/>.</summary>
    public static unsafe Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false)
    {
        var target = device ?? Device.Cpu;
        fixed (long* s = shape)
            return new Tensor(NativeMethods.ic_tensor_full(s, shape.Length, value, (int)dtype, (int)target.Type, target.Index, requires_grad ? 1 : 0));
    }

    /// <summary>Filled with zeros.</summary>
    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        full(shape, 0, dtype, device, requires_grad);

    /// <summary>Filled with ones.</summary>
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        full(shape, 1, dtype, device, requires_grad);

    /// <summary>Values start, start + step, ... below end.</summary>
    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var target = device ?? Device.Cpu;
        return new Tensor(NativeMethods.ic_tensor_arange(start, end, step, (int)dtype, (int)target.Type, target.Index));
    }

    /// <summary>0, 1, ..., end - 1.</summary>
    public static Tensor arange(long end, Device? device = null) => arange(0, end, 1, ScalarType.Int64, device);

    /// <summary>Samples of U[0, 1).</summary>
    public static unsafe Tensor rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var target = device ?? Device.Cpu;
        fixed (long* s = shape) return new Tensor(NativeMethods.ic_tensor_rand(s, shape.Length, (int)dtype, (int)target.Type, target.Index));
    }

    /// <summary>Samples of N(0, 1).</summary>
    public static unsafe Tensor randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var target = device ?? Device.Cpu;
        fixed (long* s = shape) return new Tensor(NativeMethods.ic_tensor_randn(s, shape.Length, (int)dtype, (int)target.Type, target.Index));
    }

    /// <summary>Integers drawn uniformly from [low, high).</summary>
    public static unsafe Tensor randint(long low, long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var target = device ?? Device.Cpu;
        fixed (long* s = shape) return new Tensor(NativeMethods.ic_tensor_randint(low, high, s, shape.Length, (int)dtype, (int)target.Type, target.Index));
    }

    /// <summary>A random permutation of 0..n-1.</summary>
    public static Tensor randperm(long n, Device? device = null)
    {
        var target = device ?? Device.Cpu;
        return new Tensor(NativeMethods.ic_tensor_randperm(n, (int)target.Type, target.Index));
    }

    /// <summary>Joins tensors along an existing dimension.</summary>
    public static unsafe Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Tensor.Handles(tensors);
        fixed (IntPtr* p = handles)
        {
            var result = new Tensor(NativeMethods.ic_cat(p, handles.Length, dim));
            GC.KeepAlive(tensors);
            return result;
        }
    }

    /// <summary>Joins tensors along a new dimension.</summary>
    public static unsafe Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Tensor.Handles(tensors);
        fixed (IntPtr* p = handles)
        {
            var result = new Tensor(NativeMethods.ic_stack(p, handles.Length, dim));
            GC.KeepAlive(tensors);
            return result;
        }
    }

    /// <summary>Picks from <paramref name="x"/> where <paramref name="condition"/> holds, else from <paramref name="y"/>.</summary>
    public static Tensor where(Tensor condition, Tensor x, Tensor y) =>
        new(NativeMethods.ic_where(condition.Handle, x.Handle, y.Handle));
}

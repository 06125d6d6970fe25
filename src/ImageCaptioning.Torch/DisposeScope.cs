namespace ImageCaptioning.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope, and disposes them when it
/// is disposed (TorchSharp's <c>torch.NewDisposeScope()</c>). Keep a result alive past the scope with
/// <see cref="Tensor.MoveToOuterDisposeScope"/> or <see cref="Tensor.DetachFromDisposeScope"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly HashSet<Tensor> tensors = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal DisposeScope()
    {
        Outer = current;
        current = this;
    }

    /// <summary>The scope that was innermost when this one opened, or null.</summary>
    public DisposeScope? Outer { get; }

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static DisposeScope? Current => current;

    /// <summary>How many tensors this scope will dispose.</summary>
    public int Count => tensors.Count;

    internal static void Register(Tensor tensor)
    {
        var scope = current;
        if (scope is null) return;
        scope.tensors.Add(tensor);
        tensor.OwningScope = scope;
    }

    internal void Remove(Tensor tensor) => tensors.Remove(tensor);

    internal void Adopt(Tensor tensor)
    {
        tensors.Add(tensor);
        tensor.OwningScope = this;
    }

    /// <summary>Moves tensors to the outer scope (or out of every scope when there is none).</summary>
    public void MoveToOuter(params Tensor[] moved)
    {
        foreach (var tensor in moved) tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Disposes every tensor still owned by the scope, and closes it.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!ReferenceEquals(current, this))
            throw new InvalidOperationException("dispose scopes must be disposed innermost first, on the thread that opened them");
        current = Outer;
        foreach (var tensor in tensors)
        {
            tensor.OwningScope = null;
            tensor.Dispose();
        }
        tensors.Clear();
    }
}

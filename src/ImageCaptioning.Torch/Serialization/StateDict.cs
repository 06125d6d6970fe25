using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Named tensors in file order, as read from a safetensors or PyTorch file. The dictionary owns its tensors, which
/// belong to no <see cref="DisposeScope"/>: dispose it (or take a tensor out with <see cref="Detach"/>) to free them.
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    private readonly List<KeyValuePair<string, Tensor>> entries;
    private readonly Dictionary<string, int> indexByKey;
    private HashSet<Tensor>? detached;
    private bool disposed;

    /// <summary>Takes ownership of <paramref name="tensors"/>, keeping their order; keys must be unique.</summary>
    public StateDict(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        entries = [];
        indexByKey = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (!indexByKey.TryAdd(key, entries.Count))
                throw new ArgumentException($"the key '{key}' appears twice", nameof(tensors));
            entries.Add(new(key, tensor.DetachFromDisposeScope()));
        }
        Metadata = metadata ?? NoMetadata;
    }

    /// <summary>Free-form string metadata stored with the tensors (safetensors' <c>__metadata__</c>); empty when none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public int Count => entries.Count;

    /// <inheritdoc />
    public IEnumerable<string> Keys => entries.Select(e => e.Key);

    /// <inheritdoc />
    public IEnumerable<Tensor> Values => entries.Select(e => e.Value);

    /// <summary>The tensor stored under <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that key; the message names it.</exception>
    public Tensor this[string key]
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return indexByKey.TryGetValue(key, out var index)
                ? entries[index].Value
                : throw new KeyNotFoundException($"the state dict has no tensor named '{key}'");
        }
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => indexByKey.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value)
    {
        if (indexByKey.TryGetValue(key, out var index))
        {
            value = entries[index].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>
    /// Hands the tensor under <paramref name="key"/> to the caller, who must dispose it; the dictionary will no
    /// longer dispose it.
    /// </summary>
    public Tensor Detach(string key)
    {
        var tensor = this[key];
        detached ??= new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        detached.Add(tensor);
        return tensor;
    }

    /// <summary>Disposes every tensor the dictionary still owns.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var (_, tensor) in entries)
            if (detached is null || !detached.Contains(tensor))
                tensor.Dispose();
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

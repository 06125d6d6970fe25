using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// A Python <c>dict</c> or <c>collections.OrderedDict</c> read from a pickle, in insertion order. Keys are the
/// pickled values (usually strings, sometimes integers such as optimizer parameter ids); see
/// <see cref="PthCheckpoint.Root"/> for how every Python value is represented.
/// </summary>
public sealed class PickleDictionary : IReadOnlyCollection<KeyValuePair<object, object?>>
{
    private readonly List<KeyValuePair<object, object?>> entries = [];
    private readonly Dictionary<object, int> indexByKey = new(PickleKeyComparer.Instance);
    private Dictionary<string, object?>? attributes;

    internal PickleDictionary(string pythonType) => PythonType = pythonType;

    /// <summary><c>builtins.dict</c> or <c>collections.OrderedDict</c>.</summary>
    public string PythonType { get; }

    /// <summary>
    /// Instance attributes restored on the object (an <c>OrderedDict</c> state_dict carries <c>_metadata</c>, the
    /// per-module version numbers); empty when none.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Attributes =>
        attributes ?? (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>();

    /// <inheritdoc />
    public int Count => entries.Count;

    /// <summary>The keys, in insertion order.</summary>
    public IEnumerable<object> Keys => entries.Select(e => e.Key);

    /// <summary>The values, in key order.</summary>
    public IEnumerable<object?> Values => entries.Select(e => e.Value);

    /// <summary>The value under <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The key is absent; the message names it.</exception>
    public object? this[object key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"the dictionary has no key '{key}'");

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(object key) => indexByKey.ContainsKey(key);

    /// <summary>Looks up <paramref name="key"/>.</summary>
    public bool TryGetValue(object key, [MaybeNullWhen(false)] out object? value)
    {
        if (indexByKey.TryGetValue(key, out var index))
        {
            value = entries[index].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Python semantics: assigning an existing key replaces its value in place, keeping its position.
    internal void Set(object key, object? value)
    {
        if (indexByKey.TryGetValue(key, out var index))
            entries[index] = new(key, value);
        else
        {
            indexByKey.Add(key, entries.Count);
            entries.Add(new(key, value));
        }
    }

    internal void SetAttribute(string name, object? value) => (attributes ??= new(StringComparer.Ordinal))[name] = value;

    internal void ReplaceValueAt(int index, object? value) => entries[index] = new(entries[index].Key, value);

    internal void ReplaceAttribute(string name, object? value) => attributes![name] = value;
}

/// <summary>
/// Hashes pickled integers and floats over all their bits with a per-process seed. The default hashes fold the two
/// halves of a 64-bit value together, so a file could pick thousands of keys (or memo indexes) with one hash and make
/// every insertion walk them all. Equality is the values' own.
/// </summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>, IEqualityComparer<long>
{
    public static readonly PickleKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => object.Equals(x, y);

    public int GetHashCode(object value) => value switch
    {
        long number => GetHashCode(number),
        // double.Equals treats 0.0 and -0.0 as equal, and every NaN as equal to every NaN.
        double real => GetHashCode(real == 0 ? 0L : double.IsNaN(real) ? long.MinValue : BitConverter.DoubleToInt64Bits(real)),
        _ => value.GetHashCode(),
    };

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long value) => HashCode.Combine((int)value, (int)(value >> 32));
}

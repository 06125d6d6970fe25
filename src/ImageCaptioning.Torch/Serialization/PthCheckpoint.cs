namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Everything a PyTorch <c>.pth</c>/<c>.pt</c> file holds, as read by <see cref="PthReader.Read"/>. It owns the
/// tensors in <see cref="Root"/>: dispose it to free them, or take the state_dict out with
/// <see cref="TakeStateDict"/>.
/// </summary>
public sealed class PthCheckpoint : IDisposable
{
    /// <summary>Keys under which training scripts commonly nest a model's state_dict, most specific first.</summary>
    private static readonly string[] StateDictKeys = ["state_dict", "model_state_dict", "model", "module", "net", "network", "weights"];

    private readonly HashSet<Tensor> owned;

    internal PthCheckpoint(string filePath, object? root, IReadOnlyList<Tensor> tensors)
    {
        FilePath = filePath;
        Root = root;
        Tensors = tensors;
        owned = new HashSet<Tensor>(tensors, ReferenceEqualityComparer.Instance);
    }

    /// <summary>The file the checkpoint was read from.</summary>
    public string FilePath { get; }

    /// <summary>
    /// The saved object. Python values map to: <c>None</c> → null, <c>bool</c> → <see cref="bool"/>, <c>int</c> →
    /// <see cref="long"/> (or <see cref="System.Numerics.BigInteger"/> beyond 64 bits), <c>float</c> →
    /// <see cref="double"/>, <c>str</c> → <see cref="string"/>, <c>bytes</c> → <see cref="byte"/>[], <c>tuple</c> →
    /// <see cref="object"/>?[], <c>list</c> and <c>set</c> → <see cref="List{T}"/> of object?, <c>dict</c> and
    /// <c>OrderedDict</c> → <see cref="PickleDictionary"/>, tensors and parameters → <see cref="Tensor"/>.
    /// </summary>
    public object? Root { get; }

    /// <summary>Every distinct tensor in the checkpoint.</summary>
    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>
    /// The dictionary of tensors that is the model's state_dict: the root itself when it maps strings to tensors,
    /// otherwise the entry named <paramref name="key"/>, or else the first of the usual keys
    /// (<c>state_dict</c>, <c>model_state_dict</c>, <c>model</c>, ...), or else the only top-level entry that is one.
    /// </summary>
    /// <exception cref="TensorFileException">No such dictionary, or several candidates; the message lists them.</exception>
    public PickleDictionary FindStateDict(string? key = null)
    {
        if (key is not null)
        {
            if (Root is PickleDictionary named && named.TryGetValue(key, out var value) && value is PickleDictionary candidate)
                return IsTensorDictionary(candidate)
                    ? candidate
                    : throw new TensorFileException(FilePath, key, "the entry is a dictionary but not every value is a tensor under a string key");
            throw new TensorFileException(FilePath, key, $"the checkpoint has no dictionary under this key (top-level keys: {DescribeKeys()})");
        }

        if (Root is PickleDictionary root)
        {
            if (IsTensorDictionary(root)) return root;
            // Many entries may reference one big dictionary: each distinct one is checked once.
            var checkedDictionaries = new Dictionary<PickleDictionary, bool>(ReferenceEqualityComparer.Instance);
            bool IsCandidate(object? value) =>
                value is PickleDictionary d && (checkedDictionaries.TryGetValue(d, out var known) ? known : checkedDictionaries[d] = IsTensorDictionary(d));
            foreach (var usual in StateDictKeys)
                if (root.TryGetValue(usual, out var value) && IsCandidate(value))
                    return (PickleDictionary)value!;
            var candidates = root.Where(e => IsCandidate(e.Value)).ToList();
            if (candidates.Count == 1) return (PickleDictionary)candidates[0].Value!;
            if (candidates.Count > 1)
                throw new TensorFileException(FilePath, null,
                    $"several entries hold tensor dictionaries ({string.Join(", ", candidates.Select(c => $"'{c.Key}'"))}): name the one to use");
        }
        throw new TensorFileException(FilePath, null,
            $"no state_dict found: the file holds {DescribeRoot()}, and none of its entries maps strings to tensors");
    }

    /// <summary>
    /// Hands the state_dict's tensors (see <see cref="FindStateDict"/>) to the caller as a <see cref="StateDict"/>;
    /// disposing this checkpoint afterwards frees only the other tensors.
    /// </summary>
    public StateDict TakeStateDict(string? key = null)
    {
        var found = FindStateDict(key);
        var entries = found.Select(e => new KeyValuePair<string, Tensor>((string)e.Key, (Tensor)e.Value!)).ToList();
        foreach (var (_, tensor) in entries) owned.Remove(tensor);
        return new StateDict(entries);
    }

    /// <summary>Disposes the tensors the checkpoint still owns.</summary>
    public void Dispose()
    {
        foreach (var tensor in owned) tensor.Dispose();
        owned.Clear();
    }

    private static bool IsTensorDictionary(PickleDictionary dictionary) =>
        dictionary.All(e => e.Key is string && e.Value is Tensor);

    private string DescribeKeys() =>
        Root is PickleDictionary root
            ? string.Join(", ", root.Keys.Take(MaxKeysNamed).Select(k => $"'{k}'")) + (root.Count > MaxKeysNamed ? $" and {root.Count - MaxKeysNamed} more" : "")
            : "none: the root is not a dictionary";

    private const int MaxKeysNamed = 20;

    private string DescribeRoot() => Root switch
    {
        PickleDictionary d => $"a {d.PythonType} with keys {DescribeKeys()}",
        null => "None",
        var other => Pickle.Unpickler.Describe(other),
    };
}

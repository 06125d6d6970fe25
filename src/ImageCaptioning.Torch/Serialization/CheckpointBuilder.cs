
using ImageCaptioning.Torch.Serialization.Pickle;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Collects a checkpoint's storages while its pickle is read, then turns the tensor descriptions into tensors: each
/// storage becomes one flat tensor and each saved tensor a strided view of it, as torch.load does, so tensors that
/// shared a storage when saved share it again (and non-contiguous layouts survive).
/// </summary>
internal sealed class CheckpointBuilder(string path, Device device) : IDisposable
{
    private readonly Dictionary<string, StorageSlot> slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StorageView> views = new(StringComparer.Ordinal);
    private readonly HashSet<Tensor> created = new(ReferenceEqualityComparer.Instance);

    internal IReadOnlyCollection<StorageSlot> Slots => slots.Values;

    internal bool TryGetSlot(string key, out StorageSlot slot) => slots.TryGetValue(key, out slot!);

    /// <summary>
    /// Resolves a persistent id: <c>('storage', storage_type, key, location, numel)</c> in zip checkpoints, with a
    /// sixth element <c>view_metadata</c> (None or (view_key, offset, size)) in legacy ones.
    /// </summary>
    internal StorageView ResolveStorage(object? id, bool legacy)
    {
        if (id is not object?[] fields || fields.Length == 0)
            throw Error(null, $"a persistent id is {Unpickler.Describe(id)}, not a tuple");
        var typeName = fields[0] switch
        {
            string text => text,
            byte[] bytes => System.Text.Encoding.ASCII.GetString(bytes),
            var other => throw Error(null, $"a persistent id starts with {Unpickler.Describe(other)}"),
        };
        if (typeName != "storage")
            throw Error(null, typeName == "module"
                ? "the file holds a whole pickled nn.Module (torch.save(model)), not a state_dict: save model.state_dict() instead"
                : $"unknown persistent id type '{typeName}'");
        var expectedLength = legacy ? 6 : 5;
        if (fields.Length != expectedLength)
            throw Error(null, $"a storage persistent id has {fields.Length} fields instead of {expectedLength}");

        var key = fields[2] switch
        {
            string text => text,
            long number => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            var other => throw Error(null, $"a storage key is {Unpickler.Describe(other)}"),
        };
        if (fields[1] is not PickleGlobal { Kind: GlobalKind.StorageType } storageType)
            throw Error(key, $"the storage type is {Unpickler.Describe(fields[1])}, not a torch storage class");
        if (fields[4] is not long elementCount || elementCount < 0)
            throw Error(key, $"the storage size is {Unpickler.Describe(fields[4])}, not a non-negative 64-bit integer");
        var elementSize = storageType.StorageDType.ElementSize();
        if (elementCount > long.MaxValue / elementSize)
            throw Error(key, $"the storage size is {elementCount} elements of {elementSize} bytes, more bytes than a 64-bit count holds");

        if (slots.TryGetValue(key, out var slot))
        {
            if (slot.DType != storageType.StorageDType || slot.ElementCount != elementCount)
                throw Error(key, $"the storage is described twice, as {slot.ElementCount} × {slot.DType} and as {elementCount} × {storageType.StorageDType}");
        }
        else
        {
            slot = new StorageSlot(key, storageType.StorageDType, elementCount);
            slots.Add(key, slot);
        }

        var whole = new StorageView(slot, 0, elementCount);
        if (!legacy || fields[5] is null) return whole;
        if (fields[5] is not object?[] { Length: 3 } metadata || metadata[0] is not string viewKey
            || metadata[1] is not long viewOffset || metadata[2] is not long viewSize)
            throw Error(key, $"the storage view metadata is {Unpickler.Describe(fields[5])}, not (key, offset, size)");
        if (views.TryGetValue(viewKey, out var view)) return view;
        if (viewOffset < 0 || viewSize < 0 || viewOffset > elementCount - viewSize)
            throw Error(key, $"the storage view [{viewOffset}, {viewOffset} + {viewSize}) lies outside the {elementCount}-element storage");
        view = new StorageView(slot, viewOffset, viewSize);
        views.Add(viewKey, view);
        return view;
    }

    /// <summary>Reads a storage's bytes from <paramref name="source"/> into a new CPU tensor.</summary>
    internal void ReadStorage(StorageSlot slot, Stream source)
    {
        if (slot.Data is not null) throw Error(slot.Key, "the storage's data appears twice");
        var tensor = Track(torch.empty([slot.ElementCount], slot.DType));
        if (!TensorMemory.TryFill(tensor, source))
            throw Error(slot.Key, $"the file ends inside the storage's data ({slot.ElementCount} × {slot.DType}): the file is truncated");
        slot.Data = tensor;
    }

    /// <summary>Replaces every tensor description in <paramref name="root"/> by a tensor and returns the checkpoint.</summary>
    internal PthCheckpoint Finish(object? root)
    {
        foreach (var slot in slots.Values)
        {
            if (slot.Data is null) throw Error(slot.Key, "a tensor uses this storage but the file holds no data for it");
            if (device.type != DeviceType.CPU)
            {
                var moved = Track(slot.Data.to(device));
                slot.Data.Dispose();
                slot.Data = moved;
            }
        }

        var tensors = new Dictionary<PendingTensor, Tensor>(ReferenceEqualityComparer.Instance);
        // One walk over the containers, each visited once however often it is referenced. Where a value sits is kept
        // as a link to its parent and spelled out only for an error message.
        var places = new List<Place>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<int>();
        root = Visit(root, new Place(null, -1, null, 0));
        while (pending.Count > 0)
        {
            var parent = pending.Pop();
            var container = places[parent].Container!;
            var depth = places[parent].Depth + 1;
            switch (container)
            {
                case List<object?> list:
                    for (var i = 0; i < list.Count; i++)
                        list[i] = Visit(list[i], new Place(null, parent, i, depth));
                    break;
                case object?[] tuple:
                    for (var i = 0; i < tuple.Length; i++)
                        tuple[i] = Visit(tuple[i], new Place(null, parent, i, depth));
                    break;
                case PickleDictionary dictionary:
                    var index = 0;
                    foreach (var (key, value) in dictionary.ToList())
                        dictionary.ReplaceValueAt(index++, Visit(value, new Place(null, parent, new KeyStep(key), depth)));
                    foreach (var (name, value) in dictionary.Attributes.ToList())
                        dictionary.ReplaceAttribute(name, Visit(value, new Place(null, parent, new AttributeStep(name), depth)));
                    break;
            }
        }

        // The views hold the storages alive; the flat storage tensors themselves are no longer needed.
        foreach (var slot in slots.Values)
        {
            slot.Data!.Dispose();
            created.Remove(slot.Data);
            slot.Data = null;
        }
        var checkpoint = new PthCheckpoint(path, root, tensors.Values.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToList());
        created.Clear();
        return checkpoint;

        object? Visit(object? value, Place place)
        {
            var resolved = Resolve(value, () => Location(places, place), tensors);
            if (resolved is List<object?> or object?[] or PickleDictionary && visited.Add(resolved))
            {
                // Depth counts from 0 at the root; the unpickler counts a lone container as 1 level.
                if (place.Depth >= Unpickler.MaxNestingDepth)
                    throw Error(Location(places, place), $"the saved object nests containers {place.Depth + 1} levels deep here, more than the limit of {Unpickler.MaxNestingDepth} (Python's pickler writes at most about 500)");
                places.Add(place with { Container = resolved });
                pending.Push(places.Count - 1);
            }
            return resolved;
        }
    }

    /// <summary>A container or value in the saved object: its parent's index in the walk and the step from there.</summary>
    private sealed record Place(object? Container, int Parent, object? Step, int Depth);

    private sealed record KeyStep(object Key);

    private sealed record AttributeStep(string Name);

    // "(root)", "state_dict/layer.weight", "optimizer/param_groups[0].name": long paths keep their two ends.
    private static string Location(List<Place> places, Place place)
    {
        const int kept = 8;
        var steps = new List<object>();
        for (var current = place; current.Step is not null; current = places[current.Parent]) steps.Add(current.Step);
        if (steps.Count == 0) return "(root)";
        steps.Reverse();
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps.Count > 2 * kept && i == kept)
            {
                text.Append($"/…{steps.Count - 2 * kept} steps…");
                i = steps.Count - kept;
            }
            text.Append(steps[i] switch
            {
                int position => $"[{position}]",
                KeyStep key => text.Length == 0 ? $"{key.Key}" : $"/{key.Key}",
                AttributeStep attribute => $".{attribute.Name}",
                _ => "",
            });
        }
        return text.ToString();
    }

    private object? Resolve(object? value, Func<string> location, Dictionary<PendingTensor, Tensor> tensors)
    {
        switch (value)
        {
            case PendingTensor description:
                if (!tensors.TryGetValue(description, out var tensor))
                {
                    tensor = CreateTensor(description, location());
                    tensors.Add(description, tensor);
                }
                return tensor;
            case StorageView view:
                throw Error(location(), $"a bare storage (key '{view.Root.Key}') is saved outside a tensor; only tensors are supported");
            case PickleGlobal global:
                throw Error(location(), $"the value is the global {global.FullName} itself, which a state_dict never holds");
            default:
                return value;
        }
    }

    private unsafe Tensor CreateTensor(PendingTensor description, string location)
    {
        var view = description.Storage;
        var size = description.Size;
        var stride = description.Stride;
        var what = $"tensor of size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}] at offset {description.StorageOffset} " +
                   $"of storage '{view.Root.Key}'";
        if (description.StorageOffset < 0) throw Error(location, $"{what}: negative storage offset");
        long elements = 1;
        long lastElement = description.StorageOffset;
        try
        {
            for (var d = 0; d < size.Length; d++)
            {
                if (size[d] < 0) throw Error(location, $"{what}: size[{d}] is {size[d]}, not a non-negative integer");
                if (stride[d] < 0) throw Error(location, $"{what}: stride[{d}] is {stride[d]}, not a non-negative integer");
                elements = checked(elements * size[d]);
                if (size[d] > 0) lastElement = checked(lastElement + (size[d] - 1) * stride[d]);
            }
        }
        catch (OverflowException)
        {
            throw Error(location, $"{what}: its element count or last element's position is beyond a 64-bit integer");
        }
        if (elements > 0 && lastElement >= view.ElementCount)
            throw Error(location, $"{what} reaches element {lastElement}, past the end of the {view.ElementCount}-element storage");

        var storage = view.Root.Data!;
        var tensor = Track(storage.as_strided(size, stride, view.ElementOffset + description.StorageOffset));
        if (description.RequiresGrad && tensor.is_floating_point()) tensor.requires_grad = true;
        return tensor;
    }

    private Tensor Track(Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        created.Add(tensor);
        return tensor;
    }

    internal TensorFileException Error(string? key, string reason) => new(path, key, reason);

    /// <summary>Frees whatever was created when reading fails part way.</summary>
    public void Dispose()
    {
        foreach (var tensor in created) tensor.Dispose();
        created.Clear();
    }
}

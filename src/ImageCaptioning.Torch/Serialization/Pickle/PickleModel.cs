namespace ImageCaptioning.Torch.Serialization.Pickle;

/// <summary>What an allowed global is; everything outside this list is rejected when it is read.</summary>
internal enum GlobalKind
{
    OrderedDict,
    RebuildTensorV2,
    RebuildTensor,
    RebuildParameter,
    StorageType,
}

/// <summary>A reference to one of the allowed Python globals. It is a name, never something that runs.</summary>
internal sealed record PickleGlobal(string Module, string Name, GlobalKind Kind, ScalarType StorageDType = default)
{
    public string FullName => $"{Module}.{Name}";

    internal static PickleGlobal? TryResolve(string module, string name)
    {
        switch (module)
        {
            case "collections" when name == "OrderedDict":
                return new(module, name, GlobalKind.OrderedDict);
            case "torch._utils" when name == "_rebuild_tensor_v2":
                return new(module, name, GlobalKind.RebuildTensorV2);
            case "torch._utils" when name == "_rebuild_tensor":
                return new(module, name, GlobalKind.RebuildTensor);
            case "torch._utils" when name == "_rebuild_parameter":
                return new(module, name, GlobalKind.RebuildParameter);
            // Checkpoints saved from a GPU before PyTorch 1.0 name torch.cuda.*Storage; the data is the same.
            case "torch" or "torch.cuda" when TensorDTypes.TryParseStorageClass(name, out var dtype):
                return new(module, name, GlobalKind.StorageType, dtype);
            default:
                return null;
        }
    }
}

/// <summary>One storage of a checkpoint: a flat run of elements that tensors view. Its data may arrive later.</summary>
internal sealed class StorageSlot(string key, ScalarType dtype, long elementCount)
{
    public string Key { get; } = key;
    public ScalarType DType { get; } = dtype;
    public long ElementCount { get; } = elementCount;

    /// <summary>The storage as a flat tensor, once read.</summary>
    public Tensor? Data { get; set; }
}

/// <summary>What a persistent id resolves to: a storage, or (legacy files) a window of one.</summary>
internal sealed record StorageView(StorageSlot Root, long ElementOffset, long ElementCount);

/// <summary>A tensor the pickle describes; it becomes a <see cref="Tensor"/> once every storage has been read.</summary>
internal sealed record PendingTensor(StorageView Storage, long StorageOffset, long[] Size, long[] Stride, bool RequiresGrad);

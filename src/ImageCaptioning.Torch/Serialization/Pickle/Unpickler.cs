using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ImageCaptioning.Torch.Serialization.Pickle;

/// <summary>
/// A restricted pickle reader (protocols 0 to 5) for the subset of Python values a PyTorch checkpoint holds. It is a
/// data parser, not an interpreter: globals are names checked against <see cref="PickleGlobal.TryResolve"/> the
/// moment they are read, and the few allowed "calls" (building an OrderedDict or describing a tensor) are
/// implemented here. Every inconsistency raises a <see cref="TensorFileException"/> naming the file, the pickle and
/// the byte offset.
/// </summary>
internal sealed partial class Unpickler
{
    private const int MaxLineLength = 1 << 16;

    /// <summary>
    /// How deep containers may nest. Python's pickler recurses once per level and stops near 500 at the default
    /// recursion limit, so nothing torch.save wrote comes close; a limit keeps recursive consumers of
    /// <see cref="PthCheckpoint.Root"/> from overflowing the stack.
    /// </summary>
    internal const int MaxNestingDepth = 1000;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream input;
    private readonly string path;
    private readonly string part;
    private readonly Func<object?, object>? persistentLoad;
    private readonly List<object?> stack = [];
    private readonly List<int> marks = [];
    private readonly Dictionary<long, object?> memo = new(PickleKeyComparer.Instance);
    // Each container's height (1 + its deepest child's), recorded as children are added. A container mutated after
    // it was nested does not raise its parents' heights; CheckpointBuilder.Finish measures the finished tree.
    private readonly Dictionary<object, int> heights = new(ReferenceEqualityComparer.Instance);
    // Elements copied out of values already built (a memoized list of pairs turned into an OrderedDict, a size
    // tuple): the memo lets a few bytes reuse a big value many times, so the copies are bounded by the input's size.
    private long copyBudget;
    private long opcodeOffset;

    /// <param name="input">A seekable stream positioned at the pickle; it is left just after the STOP opcode.</param>
    /// <param name="path">The file, for error messages.</param>
    /// <param name="part">Which pickle of the file this is (for example "data.pkl"), for error messages.</param>
    /// <param name="persistentLoad">Resolves persistent ids (storages); null rejects them.</param>
    internal Unpickler(Stream input, string path, string part, Func<object?, object>? persistentLoad)
    {
        if (!input.CanSeek) throw new ArgumentException("the pickle stream must be seekable", nameof(input));
        this.input = input;
        this.path = path;
        this.part = part;
        this.persistentLoad = persistentLoad;
    }

    /// <summary>Reads one pickle, up to and including its STOP opcode, and returns its value.</summary>
    internal object? Load()
    {
        stack.Clear();
        marks.Clear();
        memo.Clear();
        heights.Clear();
        copyBudget = input.Length;
        while (true)
        {
            opcodeOffset = input.Position;
            var opcode = input.ReadByte();
            if (opcode < 0) throw Truncated();
            if (opcode == '.')
            {
                var result = Pop();
                if (stack.Count != 0 || marks.Count != 0) throw Corrupt("the pickle stops with values left on its stack");
                return result;
            }
            Execute((byte)opcode);
        }
    }

    private void Execute(byte opcode)
    {
        switch (opcode)
        {
            case 0x80: // PROTO
                var protocol = ReadByte();
                if (protocol > 5) throw Corrupt($"pickle protocol {protocol} is not supported (0 to 5 are)");
                break;
            case 0x95: // FRAME: a size hint; the framed opcodes follow inline.
                ReadUInt64();
                break;

            case (byte)'(': marks.Add(stack.Count); break; // MARK
            case (byte)'0': // POP
                if (stack.Count > CurrentMarkBase) stack.RemoveAt(stack.Count - 1);
                else PopMark();
                break;
            case (byte)'1': PopMark(); break; // POP_MARK
            case (byte)'2': Push(Peek()); break; // DUP

            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break;
            case 0x89: Push(false); break;

            case (byte)'I': Push(ParseIntLine(ReadLine())); break;
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
            case (byte)'K': Push((long)ReadByte()); break;
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
            case (byte)'L': Push(ParseLongLine(ReadLine())); break;
            case 0x8a: Push(DecodeLong(ReadBytes(ReadByte()))); break; // LONG1
            case 0x8b: Push(DecodeLong(ReadBytes(ReadLength(ReadInt32())))); break; // LONG4
            case (byte)'F': Push(ParseFloatLine(ReadLine())); break;
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;

            case (byte)'S': Push(ParseQuotedString(ReadLine())); break; // STRING (protocol 0 str)
            case (byte)'T': Push(DecodeLegacyString(ReadBytes(ReadLength(ReadInt32())))); break; // BINSTRING (Python 2 str)
            case (byte)'U': Push(DecodeLegacyString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
            case (byte)'V': Push(DecodeRawUnicodeEscape(ReadLine())); break; // UNICODE
            case (byte)'X': Push(DecodeUtf8(ReadBytes(ReadLength(ReadUInt32())))); break; // BINUNICODE
            case 0x8c: Push(DecodeUtf8(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
            case 0x8d: Push(DecodeUtf8(ReadBytes(ReadLength(ReadUInt64())))); break; // BINUNICODE8
            case (byte)'B': Push(ReadBytes(ReadLength(ReadUInt32()))); break; // BINBYTES
            case (byte)'C': Push(ReadBytes(ReadByte())); break; // SHORT_BINBYTES
            case 0x8e: Push(ReadBytes(ReadLength(ReadUInt64()))); break; // BINBYTES8
            case 0x96: Push(ReadBytes(ReadLength(ReadUInt64()))); break; // BYTEARRAY8

            case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
            case (byte)'l': Push(Nest(new List<object?>(PopMark()))); break; // LIST
            case (byte)'a': // APPEND
                var item = Pop();
                var appendTarget = PeekAs<List<object?>>("APPEND");
                appendTarget.Add(item);
                Contain(appendTarget, item);
                break;
            case (byte)'e': // APPENDS
                var items = PopMark();
                var appendsTarget = PeekAs<List<object?>>("APPENDS");
                appendsTarget.AddRange(items);
                foreach (var appended in items) Contain(appendsTarget, appended);
                break;

            case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
            case (byte)'t': Push(Nest(PopMark().ToArray())); break; // TUPLE
            case 0x85: Push(Nest(new[] { Pop() })); break; // TUPLE1
            case 0x86: { var b = Pop(); var a = Pop(); Push(Nest(new[] { a, b })); break; } // TUPLE2
            case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(Nest(new[] { a, b, c })); break; } // TUPLE3

            case (byte)'}': Push(new PickleDictionary("builtins.dict")); break; // EMPTY_DICT
            case (byte)'d': // DICT
                var dictionary = new PickleDictionary("builtins.dict");
                SetItems(dictionary, PopMark());
                Push(dictionary);
                break;
            case (byte)'s': // SETITEM
                var value = Pop();
                var key = Pop();
                SetItem(PeekAs<PickleDictionary>("SETITEM"), key, value);
                break;
            case (byte)'u': // SETITEMS
                var pairs = PopMark();
                SetItems(PeekAs<PickleDictionary>("SETITEMS"), pairs);
                break;

            // Sets are rare in checkpoints; they are read as lists.
            case 0x8f: Push(new List<object?>()); break; // EMPTY_SET
            case 0x90: // ADDITEMS
                var added = PopMark();
                var addTarget = PeekAs<List<object?>>("ADDITEMS");
                addTarget.AddRange(added);
                foreach (var addedItem in added) Contain(addTarget, addedItem);
                break;
            case 0x91: Push(Nest(new List<object?>(PopMark()))); break; // FROZENSET

            case (byte)'c': Push(ResolveGlobal(ReadAsciiLine(), ReadAsciiLine())); break; // GLOBAL
            case 0x93: // STACK_GLOBAL
                var name = PopAs<string>("STACK_GLOBAL name");
                var module = PopAs<string>("STACK_GLOBAL module");
                Push(ResolveGlobal(module, name));
                break;
            case (byte)'i': // INST
                var instModule = ReadAsciiLine();
                var instClass = ResolveGlobal(instModule, ReadAsciiLine());
                Push(Instantiate(instClass, PopMark().ToArray(), "INST"));
                break;
            case (byte)'o': // OBJ
                var objArguments = PopMark();
                if (objArguments.Count == 0 || objArguments[0] is not PickleGlobal objClass)
                    throw Corrupt("OBJ without a class");
                Push(Instantiate(objClass, objArguments.Skip(1).ToArray(), "OBJ"));
                break;
            case 0x81: // NEWOBJ
                var newArguments = PopAs<object?[]>("NEWOBJ arguments");
                Push(Instantiate(PopAs<PickleGlobal>("NEWOBJ class"), newArguments, "NEWOBJ"));
                break;
            case 0x92: // NEWOBJ_EX
                var keywordArguments = PopAs<PickleDictionary>("NEWOBJ_EX keyword arguments");
                var positional = PopAs<object?[]>("NEWOBJ_EX arguments");
                var exClass = PopAs<PickleGlobal>("NEWOBJ_EX class");
                if (keywordArguments.Count != 0) throw Corrupt($"NEWOBJ_EX of {exClass.FullName} with keyword arguments is not supported");
                Push(Instantiate(exClass, positional, "NEWOBJ_EX"));
                break;
            case (byte)'R': // REDUCE
                var arguments = PopAs<object?[]>("REDUCE arguments");
                Push(Call(PopAs<PickleGlobal>("REDUCE callable"), arguments));
                break;
            case (byte)'b': // BUILD
                var state = Pop();
                Build(Peek(), state);
                break;

            case (byte)'p': memo[ParseMemoIndex(ReadAsciiLine())] = Peek(); break; // PUT
            case (byte)'q': memo[ReadByte()] = Peek(); break; // BINPUT
            case (byte)'r': memo[ReadUInt32()] = Peek(); break; // LONG_BINPUT
            case 0x94: memo[memo.Count] = Peek(); break; // MEMOIZE
            case (byte)'g': Push(MemoGet(ParseMemoIndex(ReadAsciiLine()))); break; // GET
            case (byte)'h': Push(MemoGet(ReadByte())); break; // BINGET
            case (byte)'j': Push(MemoGet(ReadUInt32())); break; // LONG_BINGET

            case (byte)'P': Push(PersistentLoad(ReadAsciiLine())); break; // PERSID
            case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID

            case 0x82 or 0x83 or 0x84:
                throw Corrupt("the pickle uses the copyreg extension registry (EXT1/EXT2/EXT4), which a state_dict never needs");
            case 0x97 or 0x98:
                throw Corrupt("the pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER), which torch.save never writes");
            default:
                throw Corrupt($"unknown pickle opcode 0x{opcode:x2}");
        }
    }

    private PickleGlobal ResolveGlobal(string module, string name)
    {
        var resolved = PickleGlobal.TryResolve(module, name);
        if (resolved is not null) return resolved;
        if (module is "torch" or "torch.cuda" && name.EndsWith("Storage", StringComparison.Ordinal))
            throw Corrupt($"tensors stored as {module}.{name} are not supported (supported element types: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool)");
        throw new UnsafePickleException(path, $"{module}.{name}");
    }

    private object? PersistentLoad(object? id)
    {
        if (persistentLoad is null) throw Corrupt("a persistent id appears where none is expected");
        return persistentLoad(id);
    }

    private object? MemoGet(long index) =>
        memo.TryGetValue(index, out var value) ? value : throw Corrupt($"memo entry {index} is read before it is written");

    private void SetItems(PickleDictionary dictionary, List<object?> pairs)
    {
        if (pairs.Count % 2 != 0) throw Corrupt("a dictionary is built from an odd number of keys and values");
        for (var i = 0; i < pairs.Count; i += 2) SetItem(dictionary, pairs[i], pairs[i + 1]);
    }

    private void SetItem(PickleDictionary dictionary, object? key, object? value)
    {
        switch (key)
        {
            case null:
                throw Corrupt("a dictionary key of None is not supported");
            case List<object?> or PickleDictionary:
                throw Corrupt("a list or dict is used as a dictionary key");
            case PendingTensor or StorageView:
                throw Corrupt("a tensor or storage used as a dictionary key is not supported");
        }
        dictionary.Set(key, value);
        Contain(dictionary, key);
        Contain(dictionary, value);
    }

    private T Nest<T>(T container) where T : IEnumerable<object?>
    {
        foreach (var item in container) Contain(container, item);
        return container;
    }

    // Records that container now holds child, and refuses nesting deeper than any state_dict needs.
    private void Contain(object container, object? child)
    {
        if (child is not (List<object?> or object?[] or PickleDictionary)) return;
        var height = (heights.TryGetValue(child, out var childHeight) ? childHeight : 1) + 1;
        if (heights.TryGetValue(container, out var current) && current >= height) return;
        if (height > MaxNestingDepth)
            throw Corrupt($"containers nest {height} levels deep here, more than the limit of {MaxNestingDepth} (Python's pickler writes at most about 500)");
        heights[container] = height;
    }

    private void ChargeCopies(long elements)
    {
        copyBudget -= elements;
        if (copyBudget < 0)
            throw Corrupt($"the pickle copies memoized values into more elements than its {input.Length} bytes describe (a value reused by reference over and over)");
    }

    // NEWOBJ, INST and OBJ create an instance of a class; of the allowed globals only OrderedDict is one.
    private object Instantiate(PickleGlobal type, object?[] arguments, string opcodeName)
    {
        if (type.Kind != GlobalKind.OrderedDict)
            throw Corrupt($"{opcodeName} cannot create an instance of {type.FullName}");
        return Call(type, arguments);
    }

    private object Call(PickleGlobal callable, object?[] arguments)
    {
        switch (callable.Kind)
        {
            case GlobalKind.OrderedDict:
                var dictionary = new PickleDictionary("collections.OrderedDict");
                if (arguments.Length == 1 && arguments[0] is IReadOnlyCollection<object?> pairs)
                {
                    ChargeCopies(pairs.Count);
                    foreach (var pair in pairs)
                    {
                        if (pair is not IReadOnlyList<object?> { Count: 2 } keyValue)
                            throw Corrupt("OrderedDict is built from something other than (key, value) pairs");
                        SetItem(dictionary, keyValue[0], keyValue[1]);
                    }
                }
                else if (arguments.Length == 1 && arguments[0] is PickleDictionary source)
                {
                    ChargeCopies(source.Count);
                    foreach (var (key, value) in source) SetItem(dictionary, key, value);
                }
                else if (arguments.Length != 0)
                    throw Corrupt($"OrderedDict is called with {arguments.Length} unsupported arguments");
                return dictionary;

            case GlobalKind.RebuildTensorV2:
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]): hooks and metadata
                // can only hold allowed values here, and neither changes the tensor's data.
                if (arguments.Length is not (6 or 7))
                    throw Corrupt($"{callable.FullName} takes 6 or 7 arguments, not {arguments.Length}");
                return DescribeTensor(callable, arguments, Argument<bool>(callable, arguments, 4, "requires_grad"));

            case GlobalKind.RebuildTensor:
                if (arguments.Length != 4)
                    throw Corrupt($"{callable.FullName} takes 4 arguments, not {arguments.Length}");
                return DescribeTensor(callable, arguments, requiresGrad: false);

            case GlobalKind.RebuildParameter:
                if (arguments.Length != 3)
                    throw Corrupt($"{callable.FullName} takes 3 arguments, not {arguments.Length}");
                var data = Argument<PendingTensor>(callable, arguments, 0, "data");
                return data with { RequiresGrad = Argument<bool>(callable, arguments, 1, "requires_grad") };

            default:
                throw Corrupt($"{callable.FullName} is a storage type; it cannot be called");
        }
    }

    private PendingTensor DescribeTensor(PickleGlobal callable, object?[] arguments, bool requiresGrad)
    {
        var storage = Argument<StorageView>(callable, arguments, 0, "storage");
        var offset = Argument<long>(callable, arguments, 1, "storage_offset");
        var size = IntegerTuple(callable, Argument<object?[]>(callable, arguments, 2, "size"), "size");
        var stride = IntegerTuple(callable, Argument<object?[]>(callable, arguments, 3, "stride"), "stride");
        if (size.Length != stride.Length)
            throw Corrupt($"{callable.FullName} has {size.Length} sizes but {stride.Length} strides");
        return new PendingTensor(storage, offset, size, stride, requiresGrad);
    }

    private long[] IntegerTuple(PickleGlobal callable, object?[] tuple, string what)
    {
        ChargeCopies(tuple.Length);
        var values = new long[tuple.Length];
        for (var i = 0; i < tuple.Length; i++)
            values[i] = tuple[i] is long value ? value : throw Corrupt($"{callable.FullName}: {what}[{i}] is {Describe(tuple[i])}, not {DescribeType<long>()}");
        return values;
    }

    private T Argument<T>(PickleGlobal callable, object?[] arguments, int index, string name) =>
        arguments[index] is T value
            ? value
            : throw Corrupt($"{callable.FullName}: argument '{name}' is {Describe(arguments[index])}, not {DescribeType<T>()}");

    private void Build(object? target, object? state)
    {
        if (target is not PickleDictionary dictionary)
            throw Corrupt($"BUILD sets the state of {Describe(target)}, which is not supported");
        // Python's BUILD takes a dict of attributes, or a (dict, slots dict) pair.
        if (state is object?[] { Length: 2 } pair)
        {
            ApplyAttributes(dictionary, pair[0]);
            ApplyAttributes(dictionary, pair[1]);
        }
        else
            ApplyAttributes(dictionary, state);
    }

    private void ApplyAttributes(PickleDictionary target, object? attributes)
    {
        if (attributes is null) return;
        if (attributes is not PickleDictionary values)
            throw Corrupt($"BUILD state is {Describe(attributes)}, not a dictionary of attributes");
        ChargeCopies(values.Count);
        foreach (var (name, value) in values)
        {
            target.SetAttribute(name as string ?? throw Corrupt($"an attribute name is {Describe(name)}, not a string"), value);
            Contain(target, value);
        }
    }
}

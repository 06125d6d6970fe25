using System.Text;
using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

[TestFixture]
public sealed class SafetensorsTests
{
    private static Dictionary<string, Tensor> SampleTensors()
    {
        var weight = torch.tensor(new float[] { 1.5f, -2.25f, float.MaxValue, float.Epsilon, -0.0f, 3e-8f }, [2, 3]);
        return new Dictionary<string, Tensor>
        {
            ["layer.weight"] = weight,
            ["layer.weight_t"] = weight.transpose(0, 1),
            ["f64"] = torch.tensor(new[] { Math.PI, -1e300, double.Epsilon }),
            ["f16"] = torch.tensor(new[] { (Half)0.5f, (Half)(-65504f), Half.Epsilon }),
            ["bf16"] = torch.tensor(new[] { 1f, -3.140625f, 1e30f }).to(ScalarType.BFloat16),
            ["i64"] = torch.tensor(new[] { long.MinValue, long.MaxValue, 0L }),
            ["i32"] = torch.tensor(new[] { int.MinValue, int.MaxValue }),
            ["i16"] = torch.tensor(new short[] { short.MinValue, short.MaxValue }),
            ["i8"] = torch.tensor(new sbyte[] { sbyte.MinValue, sbyte.MaxValue }),
            ["u8"] = torch.tensor(new byte[] { 0, 255, 7 }),
            ["bool"] = torch.tensor(new[] { true, false, true, true }, [2, 2]),
            ["scalar"] = torch.tensor(new[] { 42f }, []),
            ["empty"] = torch.zeros([0, 4]),
            ["grad"] = torch.ones([2], requires_grad: true),
        };
    }

    [Test]
    public void WrittenFile_IsReadByThePythonReference_WithExactValues()
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        using var directory = new TempDirectory();
        var path = directory.File("ours.safetensors");
        var tensors = SampleTensors();
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "résumé ✓" });

        using var document = JsonDocument.Parse(PythonReference.Run("serialization_safetensors.py", "read", path));
        var root = document.RootElement;
        Assert.That(root.GetProperty("metadata").GetProperty("note").GetString(), Is.EqualTo("résumé ✓"));
        Assert.That(root.GetProperty("metadata").GetProperty("format").GetString(), Is.EqualTo("pt"));
        var read = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.That(read.Select(t => t.GetProperty("name").GetString()), Is.EqualTo(tensors.Keys), "data order follows the dictionary");
        foreach (var entry in read)
        {
            var name = entry.GetProperty("name").GetString()!;
            var source = tensors[name];
            Assert.That(entry.GetProperty("dtype").GetString(), Is.EqualTo(TensorDTypes.SafetensorsName(source.dtype)), name);
            Assert.That(TensorValues.Shape(entry.GetProperty("shape")), Is.EqualTo(source.shape), name);
            TensorValues.AssertEqual(entry.GetProperty("values"), TensorValues.Elements(source), name);
        }
    }

    [Test]
    public void FileWrittenByPython_Loads_InDataOrder_WithExactValues()
    {
        PythonReference.Require("torch");
        using var directory = new TempDirectory();
        var path = directory.File("python.safetensors");
        PythonReference.Run("serialization_safetensors.py", "write", path, directory.File("expected.json"));
        using var expected = JsonDocument.Parse(File.ReadAllText(directory.File("expected.json")));

        using var loaded = Safetensors.Load(path);
        var tensors = expected.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.That(loaded.Keys, Is.EqualTo(tensors.Select(t => t.GetProperty("name").GetString())));
        foreach (var entry in tensors)
        {
            var name = entry.GetProperty("name").GetString()!;
            var tensor = loaded[name];
            Assert.That(TensorDTypes.SafetensorsName(tensor.dtype), Is.EqualTo(entry.GetProperty("dtype").GetString()), name);
            Assert.That(tensor.shape, Is.EqualTo(TensorValues.Shape(entry.GetProperty("shape"))), name);
            TensorValues.AssertEqual(entry.GetProperty("values"), TensorValues.Elements(tensor), name);
        }
        Assert.That(loaded.Metadata, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["note"] = "written by the python reference",
        }));

        var raw = Safetensors.LoadRaw(path);
        Assert.That(raw.Select(r => r.Name), Is.EqualTo(loaded.Keys));
        Assert.That(raw.Select(r => r.Data.ToArray()), Is.EqualTo(loaded.Values.Select(TensorValues.Bytes)));
    }

    [Test]
    public void RawForm_RoundTrips_AndMatchesTheTensorForm()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TempDirectory();
        var tensors = SampleTensors();
        Safetensors.Save(directory.File("a.safetensors"), tensors);
        var raw = Safetensors.LoadRaw(directory.File("a.safetensors"));
        Safetensors.SaveRaw(directory.File("b.safetensors"), raw);

        Assert.That(File.ReadAllBytes(directory.File("b.safetensors")), Is.EqualTo(File.ReadAllBytes(directory.File("a.safetensors"))));
        var header = Safetensors.ReadHeader(directory.File("b.safetensors"));
        Assert.That(header.DataStart % 8, Is.EqualTo(0), "the header is padded so the data is 8-byte aligned");
        Assert.That(header.Entries.Select(e => (e.Name, e.DType, e.Shape.ToArray())),
            Is.EqualTo(tensors.Select(t => (t.Key, t.Value.dtype, t.Value.shape))));
    }

    [Test]
    public void Load_GivesTensorsOwnedByTheStateDict_NotByTheCallersScope()
    {
        using var directory = new TempDirectory();
        var path = directory.File("x.safetensors");
        using (var source = torch.arange(0, 6, 1, ScalarType.Float32))
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = source });
        var baseline = Tensor.TotalCount;

        StateDict loaded;
        using (torch.NewDisposeScope()) loaded = Safetensors.Load(path);
        Assert.That(loaded["x"].IsInvalid, Is.False, "the scope must not dispose tensors the caller owns");
        Assert.That(loaded["x"].ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 2, 3, 4, 5 }));
        loaded.Dispose();
        Assert.That(Tensor.TotalCount, Is.EqualTo(baseline));
    }

    [Test]
    public void Load_OfALargeFile_MakesNoManagedCopyOfTheData()
    {
        using var directory = new TempDirectory();
        var path = directory.File("large.safetensors");
        const long elements = 16L << 20; // 64 MB of float32
        using (var big = torch.arange(0, elements, 1, ScalarType.Float32))
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["big"] = big });

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var loaded = Safetensors.Load(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.LessThan(1L << 20), "tensor data must go from the mapped file to native memory");
        using var expected = torch.arange(0, elements, 1, ScalarType.Float32);
        using var differences = loaded["big"].ne(expected);
        using var count = differences.sum();
        Assert.That(count.item<long>(), Is.EqualTo(0));
    }

    [Test]
    public void FailedSave_LeavesThePreviousFileAndNoTemporaryFiles()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TempDirectory();
        var path = directory.File("model.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["a"] = torch.ones([3]) });
        var original = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() =>
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["b"] = torch.zeros([2]), ["__metadata__"] = torch.zeros([1]) }));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(original));
        Assert.That(Directory.GetFiles(directory.Path), Is.EqualTo(new[] { path }), "no temporary file is left behind");
    }

    private static IEnumerable<TestCaseData> CorruptHeaders()
    {
        static TestCaseData Case(string name, string header, int dataLength, string? key, string fragment) =>
            new TestCaseData(header, dataLength, key, fragment).SetName($"Load_RejectsCorruptHeader({name})");

        yield return Case("not json", "{\"a\": ", 0, null, "not valid JSON");
        yield return Case("not an object", "[1, 2]", 0, null, "does not start with '{'");
        yield return Case("unknown dtype", """{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", 1, "w", "F8_E4M3");
        yield return Case("size mismatch", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "w", "needs 8 bytes");
        yield return Case("gap", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}""", 3, "b", "not contiguous");
        yield return Case("overlap", """{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}""", 3, "b", "overlap");
        yield return Case("truncated data", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 10, null, "truncated");
        yield return Case("trailing data", """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 9, null, "describes only 4");
        yield return Case("negative size", """{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}""", 0, "w", "non-negative");
        yield return Case("reversed offsets", """{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}""", 4, "w", "end before they begin");
        yield return Case("three offsets", """{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}""", 1, "w", "3 values instead of 2");
        yield return Case("missing dtype", """{"w":{"shape":[1],"data_offsets":[0,1]}}""", 1, "w", "dtype");
        yield return Case("duplicate key", """{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2, "w", "twice");
        yield return Case("metadata not strings", """{"__metadata__":{"epoch":3}}""", 0, "__metadata__", "not a string");
        yield return Case("huge shape", """{"w":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "w", "too large");
    }

    [TestCaseSource(nameof(CorruptHeaders))]
    public void Load_RejectsCorruptHeader(string header, int dataLength, string? key, string fragment)
    {
        using var directory = new TempDirectory();
        var path = directory.File("corrupt.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((ulong)json.Length));
            file.Write(json);
            file.Write(new byte[dataLength]);
        }

        var error = Assert.Throws<TensorFileException>(() => Safetensors.Load(path).Dispose())!;
        Assert.That(error.Message, Does.StartWith(path));
        Assert.That(error.Message, Does.Contain(fragment));
        Assert.That(error.Key, Is.EqualTo(key));
    }

    [Test]
    public void Load_OfATruncatedFile_FailsCleanly_AtEveryLength()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TempDirectory();
        var path = directory.File("whole.safetensors");
        Safetensors.Save(path, SampleTensors());
        var bytes = File.ReadAllBytes(path);
        var cut = directory.File("cut.safetensors");

        for (var length = 0; length < bytes.Length; length += Math.Max(1, bytes.Length / 97))
        {
            File.WriteAllBytes(cut, bytes[..length]);
            var error = Assert.Throws<TensorFileException>(() => Safetensors.Load(cut).Dispose(), $"cut at {length} of {bytes.Length}")!;
            Assert.That(error.FilePath, Is.EqualTo(cut));
        }
    }

    [Test]
    public void Load_OfAMissingFile_NamesIt()
    {
        using var directory = new TempDirectory();
        var path = directory.File("absent.safetensors");
        var error = Assert.Throws<FileNotFoundException>(() => Safetensors.Load(path).Dispose())!;
        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void Load_OfAHeaderWithInvalidUtf8InAKey_FailsCleanly()
    {
        using var directory = new TempDirectory();
        var path = directory.File("bad-utf8.safetensors");
        var json = Encoding.UTF8.GetBytes("{\"k\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        json[2] = 0xff;
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json]);

        Assert.That(() => Safetensors.Load(path).Dispose(), Throws.TypeOf<TensorFileException>().With.Message.Contains("UTF-8"));
    }
}

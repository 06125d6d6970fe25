using System.Numerics;
using System.Text;
using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

[TestFixture]
public sealed class PthReaderTests
{
    private TempDirectory directory = null!;
    private JsonDocument expected = null!;

    private JsonElement Expected(string name) => expected.RootElement.GetProperty(name);

    [OneTimeSetUp]
    public void WriteCheckpointsWithPyTorch()
    {
        PythonReference.Require("torch");
        directory = new TempDirectory();
        PythonReference.Run("serialization_pth.py", "make", directory.Path);
        expected = JsonDocument.Parse(File.ReadAllText(directory.File("expected.json")));
    }

    [OneTimeTearDown]
    public void DeleteCheckpoints()
    {
        expected?.Dispose();
        directory?.Dispose();
    }

    private static void AssertMatches(JsonElement reference, IReadOnlyDictionary<string, Tensor> actual, string file)
    {
        Assert.That(actual.Keys, Is.EqualTo(reference.EnumerateObject().Select(p => p.Name)), $"{file}: keys in order");
        foreach (var property in reference.EnumerateObject())
            AssertTensor(property.Value, actual[property.Name], $"{file}: {property.Name}");
    }

    private static void AssertTensor(JsonElement reference, Tensor tensor, string what)
    {
        Assert.That(TensorValues.TorchName(tensor.dtype), Is.EqualTo(reference.GetProperty("dtype").GetString()), what);
        Assert.That(tensor.shape, Is.EqualTo(TensorValues.Shape(reference.GetProperty("shape"))), what);
        Assert.That(tensor.is_contiguous(), Is.EqualTo(reference.GetProperty("contiguous").GetBoolean()), $"{what}: layout");
        Assert.That(tensor.requires_grad, Is.EqualTo(reference.GetProperty("requires_grad").GetBoolean()), $"{what}: requires_grad");
        TensorValues.AssertEqual(reference.GetProperty("values"), TensorValues.Elements(tensor), what);
    }

    [TestCase("sd_zip.pth")]
    [TestCase("sd_legacy.pth")]
    [TestCase("sd_zip_p4.pth")]
    [TestCase("sd_legacy_p4.pth")]
    public void ReadStateDict_MatchesWhatPyTorchSaved(string file)
    {
        using var stateDict = PthReader.ReadStateDict(directory.File(file));
        AssertMatches(Expected("state_dict"), stateDict, file);
    }

    [TestCase("sd_zip.pth")]
    [TestCase("sd_legacy.pth")]
    public void Read_KeepsTheOrderedDictAndItsMetadataAttribute(string file)
    {
        using var checkpoint = PthReader.Read(directory.File(file));
        var root = (PickleDictionary)checkpoint.Root!;
        Assert.That(root.PythonType, Is.EqualTo("collections.OrderedDict"));
        var metadata = (PickleDictionary)root.Attributes["_metadata"]!;
        var reference = Expected("metadata").EnumerateObject().ToList();
        Assert.That(metadata.Keys, Is.EqualTo(reference.Select(p => p.Name)));
        foreach (var module in reference)
        {
            var versions = (PickleDictionary)metadata[module.Name]!;
            Assert.That(versions["version"], Is.EqualTo(module.Value.GetProperty("version").GetInt64()), module.Name);
        }
        Assert.That(checkpoint.FindStateDict(), Is.SameAs(root));
    }

    [TestCase("sd_zip.pth")]
    [TestCase("sd_legacy.pth")]
    public void TensorsSavedFromOneStorage_ShareItAgain(string file)
    {
        using var stateDict = PthReader.ReadStateDict(directory.File(file));
        var a = stateDict["shared.a"]; // shared[2:6]
        var b = stateDict["shared.b"]; // shared[4:10].view(2, 3)
        var before = b.ToArray<float>();

        a.fill_(42);

        var after = b.ToArray<float>();
        Assert.That(after[..2], Is.EqualTo(new[] { 42f, 42f }), "shared[4] and shared[5] belong to both views");
        Assert.That(after[2..], Is.EqualTo(before[2..]));
    }

    [TestCase("checkpoint_zip.pth")]
    [TestCase("checkpoint_legacy.pth")]
    public void Read_NestedCheckpoint_ExposesEveryValue_AndFindsTheStateDict(string file)
    {
        using var checkpoint = PthReader.Read(directory.File(file));
        var reference = Expected("checkpoint");
        var root = (PickleDictionary)checkpoint.Root!;
        Assert.That(root.PythonType, Is.EqualTo("builtins.dict"));
        Assert.That(root["epoch"], Is.EqualTo(3L));
        Assert.That(root["name"], Is.EqualTo(reference.GetProperty("name").GetString()));
        Assert.That(root["big"], Is.EqualTo(BigInteger.Parse(reference.GetProperty("big").GetString()!)));
        Assert.That(root["ratio"], Is.EqualTo(0.1));
        Assert.That(root["flag"], Is.EqualTo(true));
        Assert.That(root.ContainsKey("nothing") && root["nothing"] is null, Is.True);

        var optimizer = (PickleDictionary)root["optimizer"]!;
        var state = (PickleDictionary)((PickleDictionary)optimizer["state"]!)[0L]!;
        AssertTensor(reference.GetProperty("exp_avg"), (Tensor)state["exp_avg"]!, "exp_avg");
        var group = (PickleDictionary)((List<object?>)optimizer["param_groups"]!)[0]!;
        Assert.That(group["betas"], Is.EqualTo(new object[] { 0.9, 0.999 }));
        Assert.That(group["params"], Is.EqualTo(new List<object?> { 0L, 1L }));
        AssertTensor(reference.GetProperty("parameter"), (Tensor)root["parameter"]!, "parameter (nn.Parameter)");

        Assert.That(checkpoint.FindStateDict(), Is.SameAs(root["state_dict"]));
        AssertMatches(Expected("state_dict"), checkpoint.FindStateDict().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!), file);
    }

    [Test]
    public void ReadStateDict_OfACheckpoint_KeepsOnlyTheStateDictAlive()
    {
        var baseline = Tensor.TotalCount;
        using (var stateDict = PthReader.ReadStateDict(directory.File("checkpoint_zip.pth")))
        {
            AssertMatches(Expected("state_dict"), stateDict, "checkpoint_zip.pth");
            Assert.That(Tensor.TotalCount - baseline, Is.EqualTo(stateDict.Count), "the optimizer's and other tensors are freed");
        }
        Assert.That(Tensor.TotalCount, Is.EqualTo(baseline));
    }

    [Test]
    public void ReadStateDict_OfAPyTorch03File_ReadsRebuildTensorAndStorageViews()
    {
        using var stateDict = PthReader.ReadStateDict(directory.File("old_style.pth"));
        AssertMatches(Expected("old_style"), stateDict, "old_style.pth");
    }

    [TestCase("evil_zip.pth", "posix.system")]
    [TestCase("evil_legacy.pth", "posix.system")]
    [TestCase("evil_eval.pkl", "builtins.eval")]
    public void Read_RejectsAPickleThatCallsCode_WithoutRunningIt(string file, string global)
    {
        var path = directory.File(file);
        var error = Assert.Throws<UnsafePickleException>(() => PthReader.Read(path).Dispose())!;
        Assert.That(error.GlobalName, Is.EqualTo(global));
        Assert.That(error.Message, Does.StartWith(path).And.Contain(global));
        Assert.That(File.Exists(Expected("marker").GetString()), Is.False, "the payload must never run");
    }

    private static readonly byte[] LegacyPrefix =
    [
        0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.', // magic number
        0x80, 0x02, (byte)'M', 0xe9, 0x03, (byte)'.', // protocol version 1001
        0x80, 0x02, (byte)'}', (byte)'.', // system info
    ];

    private static IEnumerable<TestCaseData> HandWrittenPickles()
    {
        // \u00NN rather than \xNN: C#'s \x escape swallows up to four hex digits.
        var reduceSystem = Encoding.Latin1.GetBytes("\u0080\u0002}q\u0000X\u0001\u0000\u0000\u0000xq\u0001cposix\nsystem\nq\u0002X\u000b\u0000\u0000\u0000touch pwnedq\u0003\u0085q\u0004Rq\u0005s.");
        yield return new TestCaseData(LegacyPrefix.Concat(reduceSystem).ToArray(), "posix.system").SetName("Read_RejectsHandWrittenPickle(legacy file, GLOBAL posix.system)");
        var stackGlobalEval = Encoding.Latin1.GetBytes("\u0080\u0004\u008c\u0008builtins\u0094\u008c\u0004eval\u0094\u0093\u0094\u008c\u00031+1\u0094\u0085\u0094R\u0094.");
        yield return new TestCaseData(stackGlobalEval, "builtins.eval").SetName("Read_RejectsHandWrittenPickle(bare pickle, STACK_GLOBAL builtins.eval)");
        var instOs = Encoding.Latin1.GetBytes("(S'ls'\nios\nsystem\n.");
        yield return new TestCaseData(LegacyPrefix.Concat(instOs).ToArray(), "os.system").SetName("Read_RejectsHandWrittenPickle(legacy file, INST os.system)");
        // torch.storage._load_from_bytes unpickles nested bytes with the unrestricted pickle module: never allowed.
        var loadFromBytes = Encoding.Latin1.GetBytes("\u0080\u0002ctorch.storage\n_load_from_bytes\nC\u0002ab\u0085R.");
        yield return new TestCaseData(LegacyPrefix.Concat(loadFromBytes).ToArray(), "torch.storage._load_from_bytes").SetName("Read_RejectsHandWrittenPickle(legacy file, torch.storage._load_from_bytes)");
    }

    [TestCaseSource(nameof(HandWrittenPickles))]
    public void Read_RejectsHandWrittenPickle(byte[] bytes, string global)
    {
        using var scratch = new TempDirectory();
        var path = scratch.File("evil.pth");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<UnsafePickleException>(() => PthReader.Read(path).Dispose())!;
        Assert.That(error.GlobalName, Is.EqualTo(global));
        Assert.That(error.FilePath, Is.EqualTo(path));
    }

    [TestCase("sd_zip.pth")]
    [TestCase("sd_legacy.pth")]
    public void Read_OfAFileCutInHalf_FailsCleanly_NamingIt(string file)
    {
        using var scratch = new TempDirectory();
        var bytes = File.ReadAllBytes(directory.File(file));
        var path = scratch.File("half.pth");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<TensorFileException>(() => PthReader.Read(path).Dispose())!;
        Assert.That(error.Message, Does.StartWith(path));
        Assert.That(error.Message, Does.Contain("truncated"));
    }

    [TestCase("sd_zip.pth")]
    [TestCase("sd_legacy.pth")]
    [TestCase("old_style.pth")]
    public void Read_OfATruncatedFile_FailsCleanly_AtEveryLength(string file)
    {
        using var scratch = new TempDirectory();
        var bytes = File.ReadAllBytes(directory.File(file));
        var path = scratch.File("cut.pth");
        var baseline = Tensor.TotalCount;
        for (var length = 0; length < bytes.Length; length += Math.Max(1, bytes.Length / 151))
        {
            File.WriteAllBytes(path, bytes[..length]);
            var error = Assert.Throws<TensorFileException>(() => PthReader.Read(path).Dispose(), $"cut at {length} of {bytes.Length}")!;
            Assert.That(error.FilePath, Is.EqualTo(path));
        }
        Assert.That(Tensor.TotalCount, Is.EqualTo(baseline), "a failed read frees what it allocated");
    }

    [TestCase("sd_legacy.pth", 400)]
    [TestCase("checkpoint_legacy.pth", 300)]
    [TestCase("old_style.pth", 300)]
    [TestCase("sd_zip.pth", 200)]
    public void Read_OfACorruptedFile_EitherLoadsOrFailsCleanly(string file, int trials)
    {
        using var scratch = new TempDirectory();
        var original = File.ReadAllBytes(directory.File(file));
        var path = scratch.File("corrupt.pth");
        var random = new Random(12345);
        var failures = 0;
        for (var trial = 0; trial < trials; trial++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            File.WriteAllBytes(path, bytes);
            try
            {
                PthReader.Read(path).Dispose();
            }
            catch (TensorFileException error)
            {
                Assert.That(error.FilePath, Is.EqualTo(path));
                failures++;
            }
        }
        Assert.That(failures, Is.GreaterThan(0), "corruption is detected at least sometimes");
    }

    [Test]
    public void Read_OfAnUnsupportedElementType_SaysWhichOne()
    {
        var path = directory.File("complex_zip.pth");
        var error = Assert.Throws<TensorFileException>(() => PthReader.Read(path).Dispose())!;
        Assert.That(error, Is.Not.InstanceOf<UnsafePickleException>());
        Assert.That(error.Message, Does.StartWith(path).And.Contain("torch.ComplexFloatStorage").And.Contain("not supported"));
    }

    [Test]
    public void Read_OfSomethingElse_SaysItIsNotACheckpoint()
    {
        using var scratch = new TempDirectory();
        var path = scratch.File("notes.pth");
        File.WriteAllText(path, "these are not weights\n");
        var error = Assert.Throws<TensorFileException>(() => PthReader.Read(path).Dispose())!;
        Assert.That(error.Message, Does.StartWith(path));

        var empty = scratch.File("empty.pth");
        File.WriteAllBytes(empty, []);
        Assert.That(() => PthReader.Read(empty).Dispose(), Throws.TypeOf<TensorFileException>().With.Message.Contains("empty"));

        var absent = scratch.File("absent.pth");
        Assert.That(() => PthReader.Read(absent).Dispose(), Throws.TypeOf<FileNotFoundException>().With.Message.Contains(absent));
    }

    [Test]
    public void FindStateDict_WithAnUnknownKey_ListsTheTopLevelKeys()
    {
        using var checkpoint = PthReader.Read(directory.File("checkpoint_zip.pth"));
        var error = Assert.Throws<TensorFileException>(() => checkpoint.FindStateDict("weights"))!;
        Assert.That(error.Message, Does.Contain("'state_dict'").And.Contain("'optimizer'"));
        Assert.That(checkpoint.FindStateDict("state_dict"), Is.SameAs(((PickleDictionary)checkpoint.Root!)["state_dict"]));
    }

    [TestCase("big_zip.pth")]
    [TestCase("big_legacy.pth")]
    public void ReadStateDict_OfALargeFile_StreamsStoragesIntoNativeMemory(string file)
    {
        using var scratch = new TempDirectory();
        using var reference = JsonDocument.Parse(PythonReference.Run("serialization_pth.py", "big", scratch.Path, "64"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var stateDict = PthReader.ReadStateDict(scratch.File(file));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.LessThan(4L << 20), "64 MB of storage must not pass through managed arrays");
        var big = stateDict["big"];
        Assert.That(big.numel(), Is.EqualTo(reference.RootElement.GetProperty("numel").GetInt64()));
        var values = big.ToArray<float>();
        TensorValues.AssertEqual(reference.RootElement.GetProperty("first"), values[..4].Select(v => (object)(double)v).ToArray(), "first");
        TensorValues.AssertEqual(reference.RootElement.GetProperty("last"), values[^4..].Select(v => (object)(double)v).ToArray(), "last");
        using var asDouble = big.to(ScalarType.Float64);
        using var sum = asDouble.sum();
        Assert.That(sum.ToDouble(), Is.EqualTo(reference.RootElement.GetProperty("sum").GetDouble()).Within(1e-6).Percent);
    }
}

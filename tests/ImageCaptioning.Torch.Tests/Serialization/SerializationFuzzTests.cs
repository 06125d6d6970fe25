using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Torch.Serialization.Pickle;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

/// <summary>
/// Damaged copies of good checkpoints, read as a user would: each either fails with a documented exception or loads,
/// and what loads is compared with the original. Zip checkpoints carry CRC-32s, so nothing damaged may load
/// different; legacy .pth and safetensors files have no checksum, so damage to their tensor bytes loads as different
/// values, and only damage to the header or pickles may change which tensors there are or what shape and type.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class SerializationFuzzTests
{
    private static readonly Type[] Documented = [typeof(TensorFileException), typeof(FileNotFoundException)];

    private TempDirectory directory = null!;

    [OneTimeSetUp]
    public void WriteCheckpoints()
    {
        PythonReference.Require("torch");
        directory = new TempDirectory();
        PythonReference.Run("serialization_pth.py", "make", directory.Path);
    }

    [OneTimeTearDown]
    public void DeleteCheckpoints() => directory?.Dispose();

    private sealed record Entry(string Key, ScalarType DType, long[] Shape, byte[] Bytes);

    private static List<Entry> Snapshot(StateDict stateDict) =>
        stateDict.Select(e => new Entry(e.Key, e.Value.dtype, e.Value.shape, TensorValues.Bytes(e.Value))).ToList();

    private static bool SameStructure(List<Entry> a, List<Entry> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Key == p.Second.Key && p.First.DType == p.Second.DType && p.First.Shape.SequenceEqual(p.Second.Shape));

    private static bool SameValues(List<Entry> a, List<Entry> b) => a.Zip(b).All(p => p.First.Bytes.AsSpan().SequenceEqual(p.Second.Bytes));

    private static int FirstDifference(byte[] original, byte[] damaged)
    {
        var common = Math.Min(original.Length, damaged.Length);
        var index = original.AsSpan(0, common).CommonPrefixLength(damaged.AsSpan(0, common));
        return index;
    }

    /// <summary>Reads every case of <paramref name="original"/>; returns the tally and the cases whose structure changed.</summary>
    private FuzzTally Fuzz(string kind, byte[] original, Func<string, StateDict> read, out List<(FuzzCase Case, int FirstDifference)> structural)
    {
        var path = directory.File($"fuzz-{kind}.bin");
        File.WriteAllBytes(path, original);
        List<Entry> reference;
        using (var good = read(path)) reference = Snapshot(good);

        var tally = new FuzzTally(kind);
        var changed = new List<(FuzzCase, int)>();
        var baseline = Tensor.TotalCount;
        foreach (var fuzzCase in FileMutations.Cases(original, FuzzSettings.CasesPerKind, FuzzSettings.Seed))
        {
            tally.Run(fuzzCase, damaged =>
            {
                File.WriteAllBytes(path, damaged.Bytes);
                List<Entry> loaded;
                using (var stateDict = read(path)) loaded = Snapshot(stateDict);
                if (!SameStructure(reference, loaded))
                {
                    changed.Add((damaged, FirstDifference(original, damaged.Bytes)));
                    return FuzzOutcome.LoadedDifferent;
                }
                return SameValues(reference, loaded) ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent;
            }, Documented, e => e is TensorFileChecksumException);
        }
        Assert.That(Tensor.TotalCount, Is.EqualTo(baseline), $"{kind}: failed reads free what they allocated");
        structural = changed;
        return tally;
    }

    [Test]
    public void ZipPth_DamagedAnywhere_NeverLoadsDifferent()
    {
        var tally = Fuzz("zip .pth", File.ReadAllBytes(directory.File("sd_zip.pth")), path => PthReader.ReadStateDict(path), out _);
        tally.Report();
        tally.AssertNothingLoadedDifferent();
        Assert.That(tally[FuzzOutcome.RefusedByCheck], Is.GreaterThan(0), "damage to the records is caught by their CRC-32");
    }

    [Test]
    public void LegacyPth_DamagedInItsData_LoadsOnlyDifferentValues()
    {
        var original = File.ReadAllBytes(directory.File("sd_legacy.pth"));
        var tally = Fuzz("legacy .pth", original, path => PthReader.ReadStateDict(path), out var structural);
        tally.Report();
        AssertStructureChangesOnlyBefore(LegacyDataStart(directory.File("sd_legacy.pth")), structural, tally);
    }

    [Test]
    public void Safetensors_DamagedInItsData_LoadsOnlyDifferentValues()
    {
        var path = directory.File("sample.safetensors");
        using (var scope = torch.NewDisposeScope())
        {
            var weight = torch.arange(12, ScalarType.Float32).reshape(3, 4);
            Safetensors.Save(path, new Dictionary<string, Tensor>
            {
                ["layer.weight"] = weight,
                ["layer.weight_t"] = weight.t(),
                ["layer.bias"] = torch.tensor(new[] { 0.5, -1.25, 3.0 }),
                ["norm.scale"] = torch.tensor(new[] { (Half)1, (Half)(-2), (Half)0.25 }),
                ["steps"] = torch.tensor(new[] { 7L, -9L }),
                ["mask"] = torch.tensor(new[] { true, false, true }),
                ["codes"] = torch.tensor(new byte[] { 0, 200, 255, 17 }, [2, 2]),
            });
        }
        var tally = Fuzz("safetensors", File.ReadAllBytes(path), p => Safetensors.Load(p), out var structural);
        tally.Report();
        AssertStructureChangesOnlyBefore(Safetensors.ReadHeader(path).DataStart, structural, tally);
    }

    // A format without a checksum cannot tell a renamed key or a shape the header still accepts from the original;
    // damage to the tensor bytes alone must never change more than values.
    private static void AssertStructureChangesOnlyBefore(long dataStart, List<(FuzzCase Case, int FirstDifference)> structural, FuzzTally tally)
    {
        TestContext.Progress.WriteLine($"fuzz {tally.Kind}: {structural.Count} of the {tally[FuzzOutcome.LoadedDifferent]} loaded different changed keys, shapes or dtypes (damage in the first {dataStart} bytes)");
        var fromData = structural.Where(s => s.FirstDifference >= dataStart).Select(s => s.Case.ToString()).ToList();
        Assert.That(fromData, Is.Empty, $"{tally.Kind}: damage after byte {dataStart} (tensor data) changed the structure");
    }

    // Where the legacy file's storage bytes begin: after its five pickles.
    private static long LegacyDataStart(string path)
    {
        using var file = File.OpenRead(path);
        using var builder = new CheckpointBuilder(path, torch.CPU);
        for (var part = 0; part < 5; part++)
            new Unpickler(file, path, $"pickle {part}", id => builder.ResolveStorage(id, legacy: true)).Load();
        return file.Position;
    }
}

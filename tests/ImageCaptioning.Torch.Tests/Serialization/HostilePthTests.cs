using System.IO.Compression;
using System.Numerics;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Torch.Serialization.Pickle;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

/// <summary>Files made to cost the reader time, memory or stack, and damage the format's own checks must catch.</summary>
[TestFixture]
public sealed class HostilePthTests
{
    private TempDirectory directory = null!;

    [SetUp]
    public void CreateDirectory() => directory = new TempDirectory();

    [TearDown]
    public void DeleteDirectory() => directory.Dispose();

    private string Zip(string name, byte[] pickle, IReadOnlyDictionary<string, byte[]>? records = null)
    {
        var path = directory.File(name);
        PickleBytes.WriteZip(path, pickle, records);
        return path;
    }

    private static TensorFileException ReadFails(string path) =>
        Assert.Catch<TensorFileException>(() => PthReader.ReadStateDict(path).Dispose())!;

    private static void AssertNestingLimit(TensorFileException error, string path)
    {
        Assert.That(error.FilePath, Is.EqualTo(path));
        Assert.That(error.Message, Does.Contain($"{Unpickler.MaxNestingDepth + 1} levels deep").And.Contain($"limit of {Unpickler.MaxNestingDepth}"));
    }

    [Test]
    public void DeeplyNestedLists_AreRefusedAtTheNestingLimit_NamingThePickleAndOffset()
    {
        const int depth = 200_000;
        var pickle = new PickleBytes().Op(Enumerable.Repeat((byte)']', depth).ToArray()).Op(Enumerable.Repeat((byte)'a', depth - 1).ToArray()).Stop();
        var path = Zip("lists.pth", pickle);

        var error = ReadFails(path);

        AssertNestingLimit(error, path);
        // The 1000th APPEND nests the 1001st level: PROTO (2 bytes) + 200,000 EMPTY_LISTs + 999 APPENDs before it.
        Assert.That(error.Message, Does.Contain("archive/data.pkl").And.Contain($"byte {2 + depth + 999}"));
    }

    [Test]
    public void DeeplyNestedTuples_AreRefusedAtTheNestingLimit()
    {
        var pickle = new PickleBytes().Op("N").Op(Enumerable.Repeat((byte)0x85, 100_000).ToArray()).Stop();
        var path = Zip("tuples.pth", pickle);

        var error = ReadFails(path);

        AssertNestingLimit(error, path);
        Assert.That(error.Message, Does.Contain("archive/data.pkl: corrupt pickle at byte 1003"), "caught while reading, at the 1001st TUPLE1");
    }

    [Test]
    public void NestingBuiltTopDownThroughTheMemo_IsRefusedWhenTheTreeIsWalked()
    {
        // Each list is nested in its parent while still empty, then filled: heights counted as values are built
        // never see the depth, the walk of the finished object does.
        var pickle = new PickleBytes().Op("]").Put(0);
        for (uint i = 0; i < 5000; i++) pickle.Get(i).Op("]").Put(i + 1).Op("a0");
        var path = Zip("top_down.pth", pickle.Stop());

        var error = ReadFails(path);

        AssertNestingLimit(error, path);
        Assert.That(error.Message, Does.Contain("steps"), "the location keeps the path's two ends");
    }

    [Test]
    public void AListReferencedTwiceAtEachOf60Levels_IsAnsweredWithoutWalkingItsPaths()
    {
        // 2^60 paths lead to the innermost list: any walk that does not remember what it visited never ends.
        var pickle = new PickleBytes().Op("]").Put(0).Integer(1).Op("a0");
        for (uint i = 0; i < 60; i++) pickle.Op("(").Get(i).Get(i).Op("l").Put(i + 1).Op("0");
        pickle.Op("}").Text("a").Get(60).Op("s");
        var path = Zip("laughs.pth", pickle.Stop());

        Assert.That(ReadFails(path).Message, Does.Contain("no state_dict found"));
    }

    [Test]
    public void AMemoizedListTurnedIntoOrderedDictsOverAndOver_IsRefused()
    {
        const int pairs = 5000;
        var pickle = new PickleBytes().Op("]").Put(0).Op("(");
        for (var i = 0; i < pairs; i++) pickle.Integer(i).Op("N\u0086");
        pickle.Op("e0").Global("collections", "OrderedDict").Put(1).Op("0").Op("](");
        for (var i = 0; i < pairs; i++) pickle.Get(1).Get(0).Op("\u0085R");
        var path = Zip("copies.pth", pickle.Op("e").Stop());

        Assert.That(ReadFails(path).Message, Does.Contain("copies memoized values"));
    }

    private string DeflateBomb(string name, long inflatedBytes)
    {
        var path = directory.File(name);
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        using var data = archive.CreateEntry("archive/data.pkl", CompressionLevel.Optimal).Open();
        var zeros = new byte[1 << 20];
        for (long written = 0; written < inflatedBytes; written += zeros.Length) data.Write(zeros);
        return path;
    }

    private static TensorFileException ReadFailsAllocatingLittle(string path)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var error = ReadFails(path);
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan(64L << 20), "nothing is inflated");
        return error;
    }

    [Test]
    public void APickleInflatingTo1Point5GB_IsRefusedByItsSize_BeforeInflating()
    {
        var path = DeflateBomb("bomb.pth", 1440L << 20);

        var error = ReadFailsAllocatingLittle(path);

        Assert.That(error.Message, Does.Contain("archive/data.pkl").And.Contain($"limit of {PthReader.MaxPickleBytes}"));
    }

    [Test]
    public void AnEntryCompressedBeyondAnyCheckpoint_IsRefusedByItsRatio_BeforeInflating()
    {
        var path = DeflateBomb("ratio.pth", 64L << 20);

        var error = ReadFailsAllocatingLittle(path);

        Assert.That(error.Message, Does.Contain("archive/data.pkl").And.Contain($"more than {CheckedZipEntry.MaxCompressionRatio} times"));
    }

    [Test]
    public void AnEntryWhoseHeaderUnderstatesItsSize_IsReadNoFurther()
    {
        var path = DeflateBomb("liar.pth", 256L << 20);
        var bytes = File.ReadAllBytes(path);
        // The central directory's uncompressed size (offset 24 of the entry's record) claims 1000 bytes.
        var central = bytes.AsSpan().LastIndexOf("PK\u0001\u0002"u8);
        BitConverter.TryWriteBytes(bytes.AsSpan(central + 24, 4), 1000u);
        File.WriteAllBytes(path, bytes);

        var error = ReadFailsAllocatingLittle(path);

        Assert.That(error.Message, Does.Contain("archive/data.pkl"));
    }

    private static readonly byte[] Weights = [.. Enumerable.Range(0, 4).SelectMany(i => BitConverter.GetBytes(i + 0.5f))];

    private static byte[] OneTensorPickle() => new PickleBytes().Op("}").Text("w").FloatTensor(4, 4).Op("s").Stop();

    [Test]
    public void AGoodHandWrittenCheckpoint_Loads()
    {
        using var stateDict = PthReader.ReadStateDict(Zip("good.pth", OneTensorPickle(), new Dictionary<string, byte[]> { ["0"] = Weights }));
        Assert.That(stateDict["w"].data<float>().ToArray(), Is.EqualTo(new[] { 0.5f, 1.5f, 2.5f, 3.5f }));
    }

    [Test]
    public void AFlippedBitInAStorage_IsRefusedByItsCrc_NamingTheEntry()
    {
        var path = Zip("flipped.pth", OneTensorPickle(), new Dictionary<string, byte[]> { ["0"] = Weights });
        var bytes = File.ReadAllBytes(path);
        var offset = bytes.AsSpan().IndexOf(Weights);
        bytes[offset + 5] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var baseline = Tensor.TotalCount;

        var error = Assert.Throws<TensorFileChecksumException>(() => PthReader.ReadStateDict(path).Dispose())!;

        Assert.That(error.EntryName, Is.EqualTo("archive/data/0"));
        Assert.That(error.FoundCrc32, Is.Not.EqualTo(error.ExpectedCrc32));
        Assert.That(error.Message, Does.StartWith(path).And.Contain("archive/data/0")
            .And.Contain($"{error.ExpectedCrc32:x8}").And.Contain($"{error.FoundCrc32:x8}"));
        Assert.That(Tensor.TotalCount, Is.EqualTo(baseline), "the storage read is freed");
    }

    [Test]
    public void AFlippedBitInThePickle_IsRefusedByItsCrc()
    {
        var path = Zip("flipped.pth", OneTensorPickle(), new Dictionary<string, byte[]> { ["0"] = Weights });
        var bytes = File.ReadAllBytes(path);
        // "w" (the key) becomes "v": a pickle that still reads, under another name.
        bytes[bytes.AsSpan().IndexOf("X\u0001\u0000\u0000\u0000w"u8) + 5] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<TensorFileChecksumException>(() => PthReader.ReadStateDict(path).Dispose())!;

        Assert.That(error.EntryName, Is.EqualTo("archive/data.pkl"));
    }

    private static IEnumerable<TestCaseData> SelfContradictions()
    {
        var twoTo61 = BigInteger.One << 61;
        var twoTo64 = BigInteger.One << 64;
        yield return new TestCaseData(twoTo61, new[] { BigInteger.One }, "the storage size is 2305843009213693952 elements of 4 bytes, more bytes than a 64-bit count holds")
            .SetName("Messages(storage size 2^61)");
        yield return new TestCaseData(twoTo64, new[] { BigInteger.One }, "the storage size is the integer 18446744073709551616, beyond 64 bits, not a non-negative 64-bit integer")
            .SetName("Messages(storage size 2^64)");
        yield return new TestCaseData(new BigInteger(-1), new[] { BigInteger.One }, "the storage size is the integer -1, not a non-negative 64-bit integer")
            .SetName("Messages(storage size -1)");
        yield return new TestCaseData(new BigInteger(4), new[] { twoTo64 }, "size[0] is the integer 18446744073709551616, beyond 64 bits, not a 64-bit integer")
            .SetName("Messages(size[0] 2^64)");
        yield return new TestCaseData(new BigInteger(4), new[] { BigInteger.One << 200 }, "size[0] is an integer of 201 bits, not a 64-bit integer")
            .SetName("Messages(size[0] 2^200)");
        yield return new TestCaseData(new BigInteger(4), new[] { new BigInteger(-2) }, "size[0] is -2, not a non-negative integer")
            .SetName("Messages(size[0] -2)");
    }

    [TestCaseSource(nameof(SelfContradictions))]
    public void Messages_SayWhatWasExpectedAndWhatWasFound(BigInteger storageElements, BigInteger[] size, string expected)
    {
        var pickle = new PickleBytes().Op("}").Text("w").FloatTensor(storageElements, size).Op("s").Stop();
        var path = Zip("message.pth", pickle, new Dictionary<string, byte[]> { ["0"] = Weights });

        Assert.That(ReadFails(path).Message, Does.Contain(expected));
    }

    [Test]
    public void AnArchiveWithTwoEntriesOfOneName_IsRefused()
    {
        var path = directory.File("twice.pth");
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Create))
            foreach (var pickle in new[] { OneTensorPickle(), new PickleBytes().Op("}").Stop() })
                using (var data = archive.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
                    data.Write(pickle);

        Assert.That(ReadFails(path).Message, Does.Contain("two entries named archive/data.pkl"));
    }

    [Test]
    public void AnEntryClaimingMoreCompressedBytesThanTheFile_IsRefusedBeforeAllocating()
    {
        var path = Zip("claims.pth", new PickleBytes().Op("}").Stop());
        var bytes = File.ReadAllBytes(path);
        // Compressed and uncompressed sizes (offsets 20 and 24 of the central record) both claim 512 MB.
        var central = bytes.AsSpan().LastIndexOf("PK\u0001\u0002"u8);
        BitConverter.TryWriteBytes(bytes.AsSpan(central + 20, 4), 512u << 20);
        BitConverter.TryWriteBytes(bytes.AsSpan(central + 24, 4), 512u << 20);
        File.WriteAllBytes(path, bytes);

        var error = ReadFailsAllocatingLittle(path);

        Assert.That(error.Message, Does.Contain($"claims {512 << 20} compressed bytes"));
    }

    [Test]
    public void IntegerKeysAndMemoIndexes_HashOverAll64Bits()
    {
        // The default hash of a long folds its halves together: i * (2^32 + 1) hashes to 0 for every i.
        var hashes = Enumerable.Range(0, 64).Select(i => PickleKeyComparer.Instance.GetHashCode(i * 4294967297L)).Distinct().Count();
        var boxed = Enumerable.Range(0, 64).Select(i => PickleKeyComparer.Instance.GetHashCode((object)(i * 4294967297L))).Distinct().Count();
        Assert.That(hashes, Is.GreaterThan(60));
        Assert.That(boxed, Is.GreaterThan(60));
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Tests.Pretrained.Blip;
using ImageCaptioning.Tests.Reliability;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// Damaged copies of each file of tiny Hugging Face checkpoint folders (ViT-GPT-2 with model.safetensors, the same
/// with pytorch_model.bin, BLIP for its vocab.txt), loaded as a user loads them and then used: the load either gives a
/// captioner that computes what the original computes (logits, the loss of captions through the tokenizer, every
/// token's text, the pixel values of an image, the generation defaults) or throws a documented exception whose message
/// names the damaged file. A hub folder has no digests, so damage that still reads as a valid file may load different:
/// that is allowed only where the file says something else (a JSON document that parses to other values, a text file,
/// safetensors tensor bytes), never for pytorch_model.bin (its zip records carry CRC-32s). Each case must finish
/// within a time limit and allocate a bounded amount of managed memory: no hang, no allocation sized by a damaged count.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class PretrainedFolderFuzzTests
{
    // Loading a tiny folder and computing its fingerprint is a few tens of milliseconds; this bound catches a hang.
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(60);
    private const long ManagedBytesLimit = 256L << 20;

    private static readonly Type[] Documented = [typeof(IOException), typeof(InvalidDataException), typeof(StateDictMismatchException)];

    /// <summary>(folder, file) pairs: which tiny checkpoint each damaged file belongs to.</summary>
    private static readonly (string Folder, string File)[] Targets =
    [
        ("safetensors", PretrainedFolder.ConfigFile), ("safetensors", PretrainedFolder.PreprocessorFile), ("safetensors", "vocab.json"),
        ("safetensors", "merges.txt"), ("safetensors", PretrainedFolder.SafetensorsFile), ("bin", PretrainedFolder.PytorchFile),
        ("blip", "vocab.txt"), ("blip", PretrainedFolder.ConfigFile),
    ];

    private TempDirectory root = null!;
    private BlipCheckpoint blip = null!;
    private readonly Dictionary<string, string> folders = [];
    private readonly Dictionary<string, string> fingerprints = [];
    private RgbImage image = null!;

    public static IEnumerable<TestCaseData> Cases() =>
        Targets.Select((t, i) => new TestCaseData(t.Folder, t.File, i).SetArgDisplayNames($"{t.Folder} {t.File}"));

    [OneTimeSetUp]
    public void MakeCheckpoints()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        root = new TempDirectory();
        folders["safetensors"] = VitGpt2Fixture.Make(root, "safetensors", VitGpt2Fixture.Spec(["safetensors"]));
        folders["bin"] = VitGpt2Fixture.Make(root, "bin", VitGpt2Fixture.Spec(["bin"]));
        blip = BlipCheckpoint.Create();
        folders["blip"] = blip.Folder;
        image = RgbImage.FromPixels(40, 30, Enumerable.Range(0, 40 * 30 * 3).Select(i => (byte)(i * 29 % 251)).ToArray());
        foreach (var (name, folder) in folders) fingerprints[name] = Fingerprint(folder);
    }

    [OneTimeTearDown]
    public void Delete()
    {
        image?.Dispose();
        blip?.Dispose();
        root?.Dispose();
    }

    /// <summary>Byte-level damage of one file: refused naming it, or loaded to the same captioner, or (where the format cannot tell) a captioner the damaged file describes.</summary>
    [TestCaseSource(nameof(Cases))]
    public void DamageIsRefusedNamingTheFileOrChangesOnlyWhatTheFileSays(string folderName, string file, int index)
    {
        var source = folders[folderName];
        var original = File.ReadAllBytes(Path.Combine(source, file));
        var tally = new FuzzTally($"pretrained {folderName} {file}");
        var unnamed = new List<string>();
        var unexplained = new List<string>();
        long dataStart = file == PretrainedFolder.SafetensorsFile ? Safetensors.ReadHeader(Path.Combine(source, file)).DataStart : long.MaxValue;
        foreach (var fuzzCase in FileMutations.Cases(original, FuzzSettings.CasesPerKind, FuzzSettings.Seed + 70 + index))
        {
            using var dir = new TempDirectory();
            var copy = Copy(source, dir.File("copy"));
            var path = Path.Combine(copy, file);
            File.WriteAllBytes(path, fuzzCase.Bytes);
            var outcome = tally.Run(fuzzCase, _ => Bounded(fuzzCase, () => Fingerprint(copy) == fingerprints[folderName] ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent),
                Documented, e =>
                {
                    if (!e.Message.Contains(file, StringComparison.Ordinal)) unnamed.Add($"{fuzzCase}: {e.GetType().Name}: {e.Message}");
                    return false;
                });
            if (outcome == FuzzOutcome.LoadedDifferent && !SaysSomethingElse(file, original, fuzzCase.Bytes, dataStart)) unexplained.Add(fuzzCase.ToString());
        }
        tally.Report();
        Assert.That(unnamed, Is.Empty, $"{tally.Kind}: errors that do not name {file}; first: {string.Join(" | ", unnamed.Take(3))}");
        Assert.That(unexplained, Is.Empty, $"{tally.Kind}: loaded different although the file says the same; first: {string.Join("; ", unexplained.Take(5))}");
        if (file == PretrainedFolder.PytorchFile) tally.AssertNothingLoadedDifferent();
        Assert.That(tally[FuzzOutcome.CleanError], Is.GreaterThan(0), $"{tally.Kind}: no damage was ever refused: it is not reaching the reader");
    }

    /// <summary>Pickles that call code, as pytorch_model.bin: each refused as unsafe, naming the file, nothing run.</summary>
    [Test]
    public void HostilePytorchFilesAreRefusedNamingTheFile()
    {
        var marker = root.File("pwned");
        var hostile = new (string Name, byte[] Bytes)[]
        {
            ("legacy pickle calling posix.system", [.. BadInputCatalogTests.LegacyPthPrefix, .. Latin1($"\u0080\u0002cposix\nsystem\nq\u0000X{(char)(6 + marker.Length)}\u0000\u0000\u0000touch {marker}q\u0001\u0085q\u0002Rq\u0003.")]),
            ("zip data.pkl calling builtins.eval", BadInputCatalogTests.ZipPth(Latin1("\u0080\u0004\u008c\u0008builtins\u0094\u008c\u0004eval\u0094\u0093\u0094\u008c\u00031+1\u0094\u0085\u0094R\u0094."))),
            ("zip data.pkl calling builtins.exec through STACK_GLOBAL", BadInputCatalogTests.ZipPth(Latin1($"\u0080\u0004\u008c\u0008builtins\u008c\u0004exec\u0093\u008c{(char)(12 + marker.Length)}open('{marker}','w')\u0085R."))),
            ("zip data.pkl building subprocess.Popen", BadInputCatalogTests.ZipPth(Latin1("\u0080\u0002csubprocess\nPopen\nq\u0000]q\u0001X\u0004\u0000\u0000\u0000trueq\u0002a\u0085q\u0003Rq\u0004."))),
        };
        foreach (var (name, bytes) in hostile)
        {
            using var dir = new TempDirectory();
            var copy = Copy(folders["bin"], dir.File("copy"));
            var path = Path.Combine(copy, PretrainedFolder.PytorchFile);
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<UnsafePickleException>(() => PretrainedCaptioner.Load(copy), name)!;
            Assert.That(e.Message, Does.Contain(path), name);
        }
        // The reference's torch.save of an object whose __reduce__ runs code.
        using (var dir = new TempDirectory())
        {
            var copy = Copy(folders["bin"], dir.File("copy"));
            var path = Path.Combine(copy, PretrainedFolder.PytorchFile);
            PythonReference.Run(VitGpt2Fixture.Script, "hostile", path, root.File("unused.json"));
            var e = Assert.Throws<UnsafePickleException>(() => PretrainedCaptioner.Load(copy))!;
            Assert.That(e.Message, Does.Contain(path));
        }
        Assert.That(File.Exists(marker) || File.Exists(root.File("pwned")), Is.False, "nothing was executed");
    }

    private static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    // Runs a case on its own thread, so that a hang fails the test instead of stopping the run, and bounds its managed allocations.
    private static FuzzOutcome Bounded(FuzzCase fuzzCase, Func<FuzzOutcome> load)
    {
        long allocated = 0;
        var task = Task.Run(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return load();
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        });
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CaseLimit)) Assert.Fail($"{fuzzCase}: still loading after {CaseLimit.TotalSeconds} s");
        Assert.That(allocated, Is.LessThan(ManagedBytesLimit), $"{fuzzCase}: {allocated} bytes allocated");
        return task.GetAwaiter().GetResult();
    }

    // Where a format has no checksum, a different load is explained only by a file that reads as something else.
    private static bool SaysSomethingElse(string file, byte[] original, byte[] damaged, long dataStart)
    {
        if (file.EndsWith(".json", StringComparison.Ordinal))
        {
            try
            {
                return !JsonNode.DeepEquals(JsonNode.Parse(original), JsonNode.Parse(damaged));
            }
            catch (JsonException)
            {
                return false; // the loader accepted what System.Text.Json does not: it must not have
            }
        }
        if (file == PretrainedFolder.SafetensorsFile)
            return original.AsSpan(0, Math.Min(original.Length, damaged.Length)).CommonPrefixLength(damaged) >= dataStart && damaged.Length == original.Length;
        return file is "merges.txt" or "vocab.txt";
    }

    /// <summary>What a user gets from a loaded folder, as one string: equal strings, the same captioner.</summary>
    private string Fingerprint(string folder)
    {
        using var captioner = PretrainedCaptioner.Load(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var text = new StringBuilder();
        var pixels = captioner.Preprocess([image, image]);
        text.AppendLine(Values(pixels));
        var start = captioner.Generation.DecoderStartId;
        var ids = torch.tensor(new long[] { start, 5, 9, 2, start, 7, 1, 3 }, [2, 4]);
        text.AppendLine(Values(captioner.Logits(pixels, ids)));
        // Text through the tokenizer: the loss of captions (ViT-GPT-2) or a caption after a prompt (BLIP, which takes one).
        // At most 38 bytes, so that even a merges.txt cut to nothing (a token per byte) fits the decoder's 40 positions.
        const string Caption = "a dog runs, naive cafe!  two\t🐱 ";
        if (captioner.Architecture == "BlipForConditionalGeneration")
            foreach (var c in captioner.Generate(pixels, new PretrainedGenerationOptions { MaxLength = 30 }, Caption))
                text.AppendLine($"{string.Join(",", c.TokenIds)} {c.LogProbability:R} {c.Text}");
        else
            text.AppendLine(captioner.Loss(pixels, [Caption, Caption[5..]]).item<float>().ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        for (var id = 0; id < captioner.Tokenizer.VocabularySize; id++) text.Append(captioner.Tokenizer.IdToToken(id)).Append('\u0001');
        text.AppendLine(captioner.Tokenizer.Decode(Enumerable.Range(0, captioner.Tokenizer.VocabularySize), skipSpecialTokens: true));
        var g = captioner.Generation;
        text.AppendLine($"{g.MaxLength} {g.NumBeams} {g.LengthPenalty:R} {g.EarlyStopping} {g.DecoderStartId} {string.Join(",", g.EndIds)} {g.PadId}");
        return text.ToString();
    }

    private static string Values(Tensor t) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.contiguous().data<float>().ToArray().AsSpan()));

    private static string Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        return to;
    }
}

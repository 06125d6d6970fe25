using System.Text.Json.Nodes;
using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Text;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Persistence;

/// <summary>
/// Damaged copies of a saved captioner's three files, loaded as a user loads them. A loaded folder is compared with
/// the original by saving it again: the same bytes mean the same weights, vocabulary and settings. The folder's
/// digests must catch every damage that would change them.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class CaptionerFolderFuzzTests
{
    private const int ImageSize = 16;
    private static readonly string[] Files = ["config.json", "model.safetensors", "vocab.txt"];
    private static readonly Type[] Documented =
        [typeof(InvalidDataException), typeof(IOException), typeof(StateDictMismatchException), typeof(CaptionFormatException)];

    private TempDirectory shared = null!;
    private string folder = null!;
    private Dictionary<string, byte[]> resavedOriginal = null!;
    private RgbImage image = null!;

    [OneTimeSetUp]
    public void SaveACaptioner()
    {
        shared = new TempDirectory();
        folder = shared.File("captioner");
        var task = new TinyCaptionTask();
        torch.manual_seed(3);
        // An encoder model, so that loading rebuilds a pixel extractor from the saved preprocessing.
        var model = new SoftAttentionCaptionModel(new SoftAttentionOptions
        {
            VocabularySize = task.Tokenizer.VocabularySize, PadId = task.Tokenizer.PadId, FeatureDimension = 8, GridCells = 16,
            EmbeddingSize = 12, HiddenSize = 16, AttentionSize = 8,
        }, new SmallCnnEncoder(new SmallCnnEncoderOptions { InputSize = ImageSize, Widths = [4, 8] }));
        var extractor = new FeatureExtractorDescription("pixels", model.InputDimension,
            ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(ImageSize, ImageSize), CenterCrop = null });
        using (var bundle = new CaptionModelBundle(model, task.Tokenizer, DecodingOptions.Greedy with { MaxLength = 8 }, extractor))
            CaptionerFolders.SaveCaptioner(folder, bundle, null, null);
        resavedOriginal = Resaved(folder);
        image = RgbImage.FromPixels(ImageSize, ImageSize, Enumerable.Range(0, ImageSize * ImageSize * 3).Select(i => (byte)(i * 13)).ToArray());
    }

    [OneTimeTearDown]
    public void Delete()
    {
        image.Dispose();
        shared.Dispose();
    }

    /// <summary>Byte-level damage of each file: none may load with other weights, vocabulary or settings.</summary>
    [TestCaseSource(nameof(Files))]
    public void DamageIsRefusedOrChangesNothing(string file)
    {
        var original = File.ReadAllBytes(Path.Combine(folder, file));
        var tally = new FuzzTally($"captioner folder {file}");
        foreach (var fuzzCase in FileMutations.Cases(original, FuzzSettings.CasesPerKind, FuzzSettings.Seed + Array.IndexOf(Files, file)))
        {
            using var dir = new TempDirectory();
            var copy = Copy(folder, dir.File("copy"));
            File.WriteAllBytes(Path.Combine(copy, file), fuzzCase.Bytes);
            tally.Run(fuzzCase, _ => LoadAndCompare(copy, FolderIntegrity.Verified), Documented, e => e.Message.Contains("SHA-256", StringComparison.Ordinal));
        }
        tally.Report();
        tally.AssertNothingLoadedDifferent();
        Assert.That(tally[FuzzOutcome.RefusedByCheck], Is.GreaterThan(0), "the digests never caught anything: the damage is not reaching them");
    }

    /// <summary>
    /// Hand edits of every value in config.json, loaded with <see cref="FolderIntegrity.AllowEdited"/> and used to
    /// caption an image: each is accepted or refused as an <see cref="InvalidDataException"/> (or a mismatch of the
    /// weights, or a missing file) naming the file, never another exception, at load or at the first caption.
    /// </summary>
    [Test]
    public void EveryEditedSettingIsAcceptedOrAnErrorNamingConfigJson()
    {
        var configPath = Path.Combine(folder, "config.json");
        var root = JsonNode.Parse(File.ReadAllText(configPath))!;
        var edits = Edits(root).ToList();
        Assert.That(edits, Has.Count.GreaterThan(100));
        var accepted = 0;
        var refused = 0;
        foreach (var (description, edit) in edits)
        {
            using var dir = new TempDirectory();
            var copy = Copy(folder, dir.File("copy"));
            var edited = JsonNode.Parse(File.ReadAllText(configPath))!;
            edit(edited);
            File.WriteAllText(Path.Combine(copy, "config.json"), edited.ToJsonString());
            try
            {
                using var captioner = Captioner.Load(copy, integrity: FolderIntegrity.AllowEdited);
                // The edited decoding settings as they are, but bounded: a legal maxLength of 10^9 costs 10^9 steps.
                var decoding = captioner.Bundle.Decoding;
                _ = captioner.Caption(image, decoding with { MaxLength = Math.Min(decoding.MaxLength, 8), BeamWidth = Math.Min(decoding.BeamWidth, 4) });
                accepted++;
            }
            catch (Exception e) when (e is InvalidDataException or StateDictMismatchException or FileNotFoundException)
            {
                // The file at fault, with the folder: config.json, or the file it disagrees with (which names config.json
                // too), the weights for a shape mismatch, pipeline.json for a format-1 folder (format = 1).
                var names = e switch
                {
                    StateDictMismatchException => "model.safetensors",
                    FileNotFoundException => "pipeline.json",
                    _ => "config.json",
                };
                Assert.That(e.Message, Does.Contain(copy).And.Contain(names), $"{description}: the message does not name {names}");
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{description}: {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
            }
        }
        TestContext.Progress.WriteLine($"config.json edits: {edits.Count} cases, {accepted} accepted, {refused} refused with an error naming the file");
        Assert.That(refused, Is.GreaterThan(edits.Count / 2));
    }

    private FuzzOutcome LoadAndCompare(string copy, FolderIntegrity integrity)
    {
        using (var captioner = Captioner.Load(copy, integrity: integrity)) _ = captioner.Caption(image);
        var resaved = Resaved(copy);
        return Files.All(f => resaved[f].AsSpan().SequenceEqual(resavedOriginal[f])) ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent;
    }

    // Saving a loaded captioner writes what it holds; two folders that load to the same captioner save to the same bytes.
    private static Dictionary<string, byte[]> Resaved(string source)
    {
        var target = source + ".resaved";
        using (var captioner = Captioner.Load(source, integrity: FolderIntegrity.AllowEdited)) captioner.Save(target);
        return Files.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(target, f)));
    }

    private static string Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Files) File.Copy(Path.Combine(from, file), Path.Combine(to, file));
        return to;
    }

    /// <summary>For every key of the document: its value replaced by values of each JSON kind and edge, the key removed, and the key in other casing.</summary>
    private static IEnumerable<(string Description, Action<JsonNode> Edit)> Edits(JsonNode root)
    {
        JsonNode?[] replacements = [null, 0, -1, 1, 1_000_000_000, 0.5, double.MaxValue, "", "x", true, new JsonArray(), new JsonObject()];
        foreach (var path in Leaves(root, []))
        {
            var name = string.Concat(path.Select((p, i) => p is int index ? $"[{index}]" : i == 0 ? $"{p}" : $".{p}"));
            foreach (var value in replacements)
                yield return ($"{name} = {value?.ToJsonString() ?? "null"}", r => Set(r, path, value?.DeepClone()));
            yield return ($"{name} removed", r => Remove(r, path));
            if (path[^1] is string) yield return ($"{name} in upper case", r => Rename(r, path));
        }
    }

    // A path is the keys (strings) and indices (ints) from the root to a value that is neither an object nor an array.
    private static IEnumerable<object[]> Leaves(JsonNode? node, object[] path)
    {
        IEnumerable<(object Step, JsonNode? Child)> children = node switch
        {
            JsonObject obj => obj.Select(pair => ((object)pair.Key, pair.Value)),
            JsonArray array => array.Select((child, i) => ((object)i, child)),
            _ => [],
        };
        foreach (var (step, child) in children)
        {
            object[] childPath = [.. path, step];
            if (child is JsonObject or JsonArray) foreach (var leaf in Leaves(child, childPath)) yield return leaf;
            else yield return childPath;
        }
    }

    private static JsonNode Parent(JsonNode root, object[] path) =>
        path[..^1].Aggregate(root, (node, step) => step is int index ? node[index]! : node[(string)step]!);

    private static void Set(JsonNode root, object[] path, JsonNode? value)
    {
        if (path[^1] is int index) Parent(root, path).AsArray()[index] = value;
        else Parent(root, path).AsObject()[(string)path[^1]] = value;
    }

    private static void Remove(JsonNode root, object[] path)
    {
        if (path[^1] is int index) Parent(root, path).AsArray().RemoveAt(index);
        else Parent(root, path).AsObject().Remove((string)path[^1]);
    }

    private static void Rename(JsonNode root, object[] path)
    {
        var parent = Parent(root, path).AsObject();
        var key = (string)path[^1];
        var value = parent[key];
        parent.Remove(key);
        parent[key.ToUpperInvariant()] = value?.DeepClone();
    }
}

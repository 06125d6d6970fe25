using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ImageCaptioning.Data;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Persistence;
using ImageCaptioning.Tests.Pretrained;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Text;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Reliability;

/// <summary>
/// The bad inputs of README.md in this folder, through the public API: each must be refused with one of the
/// exception types the samples report as bad input (exit code 2, one line), with a message naming the file, line, id
/// or key at fault. A native crash would end the test run; none may happen.
/// </summary>
[TestFixture]
public sealed class BadInputCatalogTests
{
    /// <summary>What precedes the pickled state_dict in a legacy (pre-zip) <c>.pth</c> file.</summary>
    internal static readonly byte[] LegacyPthPrefix =
    [
        0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.', // magic number
        0x80, 0x02, (byte)'M', 0xe9, 0x03, (byte)'.', // protocol version 1001
        0x80, 0x02, (byte)'}', (byte)'.', // system info
    ];

    private static TempDirectory shared = null!;
    private static string bundleFolder = null!;
    private static string storeFolder = null!;
    private static string checkpointFolder = null!;
    private static byte[] jpeg = null!;
    private static byte[] png = null!;

    [OneTimeSetUp]
    public void MakeGoodInputs()
    {
        shared = new TempDirectory();
        var task = new TinyCaptionTask();
        bundleFolder = shared.File("bundle");
        // A saved captioner: a model of ResNet-50 features, and the settings Captioner.Load rebuilds its extractor from.
        var resNetModel = CaptionModel.Create(task.ModelOptions() with { FeatureDimension = ResNet50FeatureExtractor.FeatureDimension });
        var extractor = new FeatureExtractorDescription("resnet50-avgpool", ResNet50FeatureExtractor.FeatureDimension,
            ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32), CenterCrop = null });
        using (var bundle = new CaptionModelBundle(resNetModel, task.Tokenizer, null, extractor))
            CaptionerFolders.SaveCaptioner(bundleFolder, bundle, FeatureNetwork.ResNet50, CnnWeights.Random(1));

        storeFolder = shared.File("store");
        using (var store = FeatureStore.OpenOrCreate(storeFolder, 3, "test", "none"))
            store.Append(["img_a.jpg", "img_b.jpg", "img_c.jpg"], Enumerable.Range(0, 9).Select(i => (float)i).ToArray());

        checkpointFolder = shared.File("checkpoints");
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, new CaptionTrainerOptions { Epochs = 1, Seed = 1, CheckpointDirectory = checkpointFolder }))
            trainer.Train(task.Dataset());

        using var pixels = RgbImage.FromPixels(16, 16, Enumerable.Range(0, 16 * 16 * 3).Select(i => (byte)(i * 7)).ToArray());
        jpeg = JpegEncoder.Encode(pixels);
        png = PngOf(pixels);
    }

    [OneTimeTearDown]
    public void Delete() => shared.Dispose();

    /// <summary>What the samples treat as a report of bad input (samples/Shared/SampleExit.cs, BadInput.Is).</summary>
    private static bool IsBadInputReport(Exception e) => e is IOException or InvalidDataException or UnauthorizedAccessException
        or CaptionFormatException or MissingFeaturesException or StateDictMismatchException or CheckpointMismatchException;

    /// <summary>A bad input: it writes what it needs under the folder given, and returns the call to make and what its message must name.</summary>
    public sealed record Case(string Category, string Input, Func<string, (Action Call, string Names)> Arrange)
    {
        public override string ToString() => $"{Category}: {Input}";
    }

    public static IEnumerable<TestCaseData> Cases() => All().Select(c => new TestCaseData(c).SetArgDisplayNames(c.ToString()));

    /// <summary>Every case, for README.md's list and counts.</summary>
    public static IEnumerable<Case> All()
    {
        // Caption files.
        yield return Captions("captions.txt is empty", "captions.txt", "", p => CaptionReader.ReadFlickr8kCsv(p), "(1)");
        yield return Captions("captions.txt header is filename,text", "captions.txt", "filename,text\na.jpg,a dog\n", p => CaptionReader.ReadFlickr8kCsv(p), "(1)");
        yield return Captions("captions.txt line with only an image name", "captions.txt", "image,caption\na.jpg,a dog\nb.jpg\n", p => CaptionReader.ReadFlickr8kCsv(p), "(3)");
        yield return Captions("captions.txt line with an empty image column", "captions.txt", "image,caption\n,a dog\n", p => CaptionReader.ReadFlickr8kCsv(p), "(2)");
        yield return Captions("captions.txt quoted caption never closed", "captions.txt", "image,caption\na.jpg,\"a dog\nb.jpg,a cat\n", p => CaptionReader.ReadFlickr8kCsv(p), "(2)");
        yield return Captions("captions.txt text after a closing quote", "captions.txt", "image,caption\na.jpg,\"a dog\" runs\n", p => CaptionReader.ReadFlickr8kCsv(p), "(2)");
        yield return CaptionBytes("captions.txt in Latin-1 (café)", "captions.txt", Encoding.Latin1.GetBytes("image,caption\na.jpg,a caf\u00e9\n"), p => CaptionReader.ReadFlickr8kCsv(p), "(2)");
        yield return CaptionBytes("captions.txt of random bytes", "captions.txt", RandomBytes(4096, 1), p => CaptionReader.ReadFlickr8kCsv(p), "captions.txt");
        yield return CaptionBytes("captions.txt UTF-16 with an unpaired surrogate", "captions.txt",
            [.. new UnicodeEncoding(false, true).GetPreamble(), .. Encoding.Unicode.GetBytes("image,caption\na.jpg,a "), 0x00, 0xD8, 0x41, 0x00], p => CaptionReader.ReadFlickr8kCsv(p), "(2)");
        yield return Captions("captions.txt caption with a NUL inside a word", "captions.txt", "image,caption\na.jpg,a dog\nb.jpg,a d\0og runs\n", p => CaptionReader.ReadFlickr8kCsv(p), "(3): the control character U+0000 at column 10");
        yield return Captions("token.txt caption with an escape character", "Flickr8k.token.txt", "a.jpg#0\ta dog\x1b[31m runs\n", p => CaptionReader.ReadFlickr8kTokens(p), "(1): the control character U+001B at column 14");
        yield return Captions("COCO caption with an escaped NUL", "captions.json",
            "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}],\n\"annotations\": [{\"image_id\": 1, \"caption\": \"a d\\u0000og\"}]}", p => CaptionReader.ReadCoco(p), "(2): 'caption' holds the control character U+0000 at character 4");
        yield return Captions("Karpathy image name with a NUL", "dataset.json",
            "{\"images\": [\n{\"filename\": \"a\\u0000.jpg\", \"split\": \"train\", \"sentences\": [{\"raw\": \"a dog\"}]}]}", p => CaptionReader.ReadKarpathy(p), "(2): 'filename' holds the control character U+0000");
        yield return new Case("captions", "captions.txt missing", dir => (() => CaptionReader.ReadFlickr8kCsv(Path.Combine(dir, "captions.txt")), "captions.txt"));
        yield return Captions("token.txt line without a tab", "Flickr8k.token.txt", "a.jpg#0 a dog runs\n", p => CaptionReader.ReadFlickr8kTokens(p), "(1)");
        yield return Captions("token.txt key without #k", "Flickr8k.token.txt", "a.jpg#0\ta dog\nb.jpg\ta cat\n", p => CaptionReader.ReadFlickr8kTokens(p), "(2)");
        yield return Captions("split list naming an image twice", "Flickr_8k.trainImages.txt", "a.jpg\nb.jpg\na.jpg\n", p => CaptionReader.ReadImageList(p), "(3)");
        yield return Captions("split list line with two names", "Flickr_8k.trainImages.txt", "a.jpg,b.jpg\n", p => CaptionReader.ReadImageList(p), "(1)");
        yield return Captions("COCO JSON cut short", "captions.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}], \"annot", p => CaptionReader.ReadCoco(p), "captions.json");
        yield return Captions("COCO annotation of an unknown image", "captions.json",
            "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}],\n\"annotations\": [{\"image_id\": 2, \"caption\": \"a dog\"}]}", p => CaptionReader.ReadCoco(p), "(2)");
        yield return Captions("COCO caption that is a number", "captions.json",
            "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}],\n\"annotations\": [{\"image_id\": 1, \"caption\": 7}]}", p => CaptionReader.ReadCoco(p), "(2)");
        yield return Captions("COCO image id listed twice", "captions.json",
            "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"},\n{\"id\": 1, \"file_name\": \"b.jpg\"}], \"annotations\": []}", p => CaptionReader.ReadCoco(p), "(2)");
        yield return Captions("COCO file that is an array", "captions.json", "[1, 2, 3]", p => CaptionReader.ReadCoco(p), "(1)");
        yield return CaptionBytes("COCO caption in Latin-1", "captions.json",
            Encoding.Latin1.GetBytes("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}],\n\"annotations\": [{\"image_id\": 1, \"caption\": \"a caf\u00e9\"}]}"), p => CaptionReader.ReadCoco(p), "(2)");
        yield return Captions("Karpathy file without images", "dataset.json", "{\"dataset\": \"flickr8k\"}", p => CaptionReader.ReadKarpathy(p), "dataset.json");
        yield return Captions("Karpathy image without a split", "dataset.json",
            "{\"images\": [\n{\"filename\": \"a.jpg\", \"sentences\": [{\"raw\": \"a dog\"}]}]}", p => CaptionReader.ReadKarpathy(p), "(2)");
        yield return Captions("Karpathy image listed twice", "dataset.json",
            "{\"images\": [{\"filename\": \"a.jpg\", \"split\": \"train\", \"sentences\": []},\n{\"filename\": \"a.jpg\", \"split\": \"test\", \"sentences\": []}]}",
            p => CaptionReader.ReadKarpathy(p), "(2)");

        // Image files.
        yield return Image("empty .jpg", "x.jpg", _ => []);
        yield return Image("JPEG cut in half", "x.jpg", _ => jpeg[..(jpeg.Length / 2)]);
        yield return Image("JPEG without its end marker", "x.jpg", _ => jpeg[..^2]);
        yield return Image("JPEG header claiming 60000x60000 pixels", "x.jpg", _ => HugeJpeg());
        yield return Image("PNG cut in half", "x.png", _ => png[..(png.Length / 2)]);
        yield return Image("random bytes named .jpg", "x.jpg", _ => RandomBytes(2000, 2));
        yield return Image("random bytes after a JPEG signature", "x.jpg", _ => [0xFF, 0xD8, 0xFF, .. RandomBytes(2000, 3)]);
        yield return Image("a GIF", "x.gif", _ => Encoding.ASCII.GetBytes("GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;"));
        yield return Image("a text file named .jpg", "x.jpg", _ => Encoding.ASCII.GetBytes("not an image\n"));
        yield return new Case("images", "image file missing", dir => (() => ImageDecoder.Decode(Path.Combine(dir, "absent.jpg")).Dispose(), "absent.jpg"));
        yield return new Case("images", "a folder with unreadable images, captioned one by one (Captioner.TryCaption)", dir =>
        {
            File.WriteAllBytes(Path.Combine(dir, "good.jpg"), jpeg);
            File.WriteAllBytes(Path.Combine(dir, "bad.jpg"), jpeg[..(jpeg.Length / 3)]);
            return (() =>
            {
                using var captioner = Captioner.Load(CopyOf(bundleFolder, dir));
                var results = captioner.TryCaption([Path.Combine(dir, "good.jpg"), Path.Combine(dir, "bad.jpg")]);
                if (!results[0].Succeeded || results[1].Succeeded) throw new AssertionException("expected the good file captioned and the bad one reported");
                throw results[1].Error!;
            }, "bad.jpg");
        });

        // Weights files, through the extractor that loads them.
        yield return Weights("empty .pth", "w.pth", []);
        yield return Weights("text file named .pth", "w.pth", Encoding.ASCII.GetBytes("these are not weights\n"));
        yield return Weights("legacy .pth cut after its magic number", "w.pth", LegacyPthPrefix[..20]);
        yield return Weights("hostile .pth: a pickle calling posix.system", "w.pth",
            [.. LegacyPthPrefix, .. Encoding.Latin1.GetBytes("\u0080\u0002cposix\nsystem\nq\u0000X\u0002\u0000\u0000\u0000lsq\u0001\u0085q\u0002Rq\u0003.")]);
        yield return Weights("hostile zip .pth: data.pkl calling builtins.eval", "w.pth",
            ZipPth(Encoding.Latin1.GetBytes("\u0080\u0004\u008c\u0008builtins\u0094\u008c\u0004eval\u0094\u0093\u0094\u008c\u00031+1\u0094\u0085\u0094R\u0094.")));
        yield return Weights("zip .pth without data.pkl", "w.pth", ZipPth(null));
        yield return Weights("random bytes named .pth", "w.pth", RandomBytes(5000, 4));
        yield return Weights("safetensors whose header length exceeds the file", "w.safetensors", [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        yield return Weights("safetensors with a malformed header", "w.safetensors", SafetensorsOf("{\"a\": [1, 2"));
        yield return Weights("safetensors tensor reaching past the data", "w.safetensors",
            SafetensorsOf("{\"conv1.weight\": {\"dtype\": \"F32\", \"shape\": [64, 3, 7, 7], \"data_offsets\": [0, 37632]}}"));
        yield return new Case("weights", "weights of another network (keys do not match ResNet-50)", dir =>
        {
            var path = Path.Combine(dir, "other.safetensors");
            using (var scope = torch.NewDisposeScope())
                Safetensors.Save(path, new Dictionary<string, Tensor> { ["features.0.weight"] = torch.zeros([4, 3]) });
            return (() => ResNet50FeatureExtractor.FromFile(path).Dispose(), "other.safetensors");
        });
        yield return new Case("weights", "weights file missing", dir => (() => ResNet50FeatureExtractor.FromFile(Path.Combine(dir, "absent.pth")).Dispose(), "absent.pth"));

        // Feature stores.
        yield return Store("store.json missing", s => File.Delete(Path.Combine(s, "store.json")), "store.json");
        yield return Store("store.json not JSON", s => File.WriteAllText(Path.Combine(s, "store.json"), "{ not json"), "store.json");
        yield return Store("store.json of another format", s => EditJson(Path.Combine(s, "store.json"), j => j["format"] = "something else"), "store.json");
        yield return Store("store.json version 3", s => EditJson(Path.Combine(s, "store.json"), j => j["version"] = 3), "store.json");
        yield return Store("store.json with a negative count", s => EditJson(Path.Combine(s, "store.json"), j => j["count"] = -1), "store.json");
        yield return Store("store.json with an edited extractor (its own digest)", s => EditJson(Path.Combine(s, "store.json"), j => j["extractor"] = "other"), "store.json");
        yield return Store("store.json without its row digests", s => EditJson(Path.Combine(s, "store.json"), j => j.AsObject().Remove("rowsSha256")), "store.json");
        yield return Store("store.json of version 1 (no row digests)", s => EditJson(Path.Combine(s, "store.json"), j =>
        {
            j["version"] = 1;
            foreach (var key in new[] { "chunkRows", "rowsSha256", "sha256" }) j.AsObject().Remove(key);
        }), "store.json");
        yield return Store("features.npy with one value changed", s => FlipByte(Path.Combine(s, "features.npy"), 128 + 13), "features.npy");
        yield return Store("features.npy truncated", s => Truncate(Path.Combine(s, "features.npy"), 5), "features.npy");
        yield return Store("features.npy of float64", s => ReplaceAscii(Path.Combine(s, "features.npy"), "<f4", "<f8"), "features.npy");
        yield return Store("ids.txt truncated", s => Truncate(Path.Combine(s, "ids.txt"), 4), "ids.txt");
        yield return Store("ids.txt with two ids of one length swapped", s => File.WriteAllText(Path.Combine(s, "ids.txt"), "img_b.jpg\nimg_a.jpg\nimg_c.jpg\n"), "ids.txt");
        yield return Store("ids.txt naming an image twice", s => File.WriteAllText(Path.Combine(s, "ids.txt"), "img_a.jpg\nimg_b.jpg\nimg_a.jpg\n"), "ids.txt");
        yield return Store("ids.txt with an invalid UTF-8 byte", s => ReplaceAscii(Path.Combine(s, "ids.txt"), "img_b", "img\u00e9b"), "ids.txt");
        yield return new Case("feature stores", "store opened for another feature dimension", dir =>
        {
            var copy = CopyOf(storeFolder, dir);
            return (() => FeatureStore.OpenOrCreate(copy, 5).Dispose(), "store.json");
        });

        // Model bundles and saved captioners.
        yield return new Case("bundles", "bundle folder missing", dir => (() => CaptionModelBundle.Load(Path.Combine(dir, "absent")).Dispose(), "absent"));
        yield return Bundle("config.json missing", b => File.Delete(Path.Combine(b, "config.json")), "lacks config.json");
        yield return Bundle("config.json not JSON", b => File.WriteAllText(Path.Combine(b, "config.json"), "{\"format\": 1, \"model\": "), "config.json");
        yield return EditedBundle("config.json format 3", j => j["format"] = 3, "config.json");
        yield return EditedBundle("config.json with 0 LSTM layers", j => j["model"]!["layers"] = 0, "config.json");
        yield return EditedBundle("config.json with another hidden size than the weights", j => j["model"]!["hiddenSize"] = 20, "model.safetensors");
        yield return EditedBundle("config.json with two architectures", j => j["transformer"] = new JsonObject { ["vocabularySize"] = 26 }, "config.json");
        yield return EditedBundle("config.json with an encoder for a Show-and-Tell model", j => j["encoder"] = new JsonObject { ["kind"] = "small-cnn" }, "config.json");
        yield return Bundle("model.safetensors with 64 bytes flipped", b => Tamper.FlipTensorBytes(Path.Combine(b, "model.safetensors")), "model.safetensors");
        yield return Bundle("model.safetensors truncated", b => Truncate(Path.Combine(b, "model.safetensors"), 100), "model.safetensors");
        yield return Bundle("vocab.txt with two tokens swapped", b => SwapLines(Path.Combine(b, "vocab.txt")), "vocab.txt");
        yield return Bundle("vocab.txt one token longer, in a bundle without digests loaded as edited", b =>
        {
            EditJson(Path.Combine(b, "config.json"), j => j.AsObject().Remove("sha256"));
            File.AppendAllText(Path.Combine(b, "vocab.txt"), "zebra\n");
        }, "vocab.txt", FolderIntegrity.AllowEdited);
        // Damage that would switch the integrity check off: each is refused without the explicit option.
        yield return EditedBundle("config.json without its sha256 section", j => j.AsObject().Remove("sha256"), "'sha256' is missing", FolderIntegrity.Verified);
        yield return EditedBundle("config.json with its sha256 key in another casing", j => Rename(j.AsObject(), "sha256", "Sha256"), "'Sha256'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json with a digest key in another casing", j => Rename(j["sha256"]!.AsObject(), "vocab.txt", "Vocab.txt"), "'Vocab.txt'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json without the settings' digest", j => j["sha256"]!.AsObject().Remove("config.json"), "key 'config.json'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json whose digest is upper-case hex", j => j["sha256"]!["vocab.txt"] = j["sha256"]!["vocab.txt"]!.GetValue<string>().ToUpperInvariant(), "'sha256.vocab.txt'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json saying format 1 (no digests)", j => j["format"] = 1, "config.json", FolderIntegrity.Verified);
        yield return EditedBundle("config.json with decoding.maxLength edited", j => j["decoding"]!["maxLength"] = 3, "'sha256.config.json'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json with a preprocessing mean edited", j => j["featureExtractor"]!["preprocessing"]!["mean"]![0] = 0.5, "'sha256.config.json'", FolderIntegrity.Verified);
        yield return EditedBundle("config.json with an unknown key", j => j["decoding"]!["maxLenght"] = 3, "decoding.maxLenght");
        yield return EditedBundle("config.json with a key given twice", j => { }, "config.json", FolderIntegrity.AllowEdited, duplicateKey: "format");
        yield return EditedBundle("config.json with decoding.maxLength 0", j => j["decoding"]!["maxLength"] = 0, "'decoding.maxLength'");
        yield return EditedBundle("config.json with an integer for an enum", j => j["featureExtractor"]!["preprocessing"]!["resizeMode"] = 1, "resizeMode");
        yield return EditedCaptioner("config.json with preprocessing resizeMode misspelt", j => Rename(j["featureExtractor"]!["preprocessing"]!.AsObject(), "resizeMode", "resizeModg"), "resizeModg");
        yield return EditedCaptioner("config.json with preprocessing that gives no fixed size",
            j => j["featureExtractor"]!["preprocessing"]!.AsObject().Remove("resizeMode"), "'featureExtractor.preprocessing'");
        yield return EditedCaptioner("config.json without its captioner section (a bare bundle)", j => j.AsObject().Remove("captioner"), "config.json");
        yield return EditedCaptioner("config.json naming a network whose features the model does not read", j => j["captioner"]!["network"] = "Vgg16", "config.json");
        yield return EditedCaptioner("config.json with a captioner section that is not an object", j => j["captioner"] = "ResNet50", "config.json");
        yield return EditedCaptioner("config.json naming an unknown network", j => j["captioner"]!["network"] = "alexnet", "captioner.network");
        yield return EditedCaptioner("config.json naming an unknown weights kind", j => j["captioner"]!["weightsKind"] = "Cloud", "captioner.weightsKind");
        yield return EditedCaptioner("config.json: weights from a file it does not name", j => j["captioner"]!["weightsKind"] = "File", "captioner.weightsPath");
        yield return SavedCaptioner("config.json: weights from a file that is gone", b => EditJson(Path.Combine(b, "config.json"), j =>
        {
            j["captioner"]!["weightsKind"] = "File";
            j["captioner"]!["weightsPath"] = Path.Combine(b, "gone.pth");
        }), "gone.pth", FolderIntegrity.AllowEdited);
        yield return Format1Captioner("format-1 folder without edited folders allowed", _ => { }, "config.json", FolderIntegrity.Verified);
        yield return Format1Captioner("format-1 folder: pipeline.json missing", b => File.Delete(Path.Combine(b, "pipeline.json")), "pipeline.json is missing");
        yield return Format1Captioner("format-1 folder: pipeline.json not JSON", b => File.WriteAllText(Path.Combine(b, "pipeline.json"), "{\"network\": "), "pipeline.json");
        yield return Format1Captioner("format-1 folder: pipeline.json naming an unknown network", b => EditJson(Path.Combine(b, "pipeline.json"), j => j["network"] = "alexnet"), "pipeline.json");
        yield return Format1Captioner("format-1 folder: pipeline.json naming a network whose features the model does not read",
            b => EditJson(Path.Combine(b, "pipeline.json"), j => j["network"] = "Vgg16"), "pipeline.json");

        // Training checkpoints.
        yield return Checkpoint("last.json not JSON", c => File.WriteAllText(Path.Combine(c, "last.json"), "{"), "last.json");
        yield return Checkpoint("last.json format 3", c => EditJson(Path.Combine(c, "last.json"), j => j["format"] = 3), "last.json");
        yield return Checkpoint("last.json without its state digest", c => EditJson(Path.Combine(c, "last.json"), j => j.AsObject().Remove("stateSha256")), "'stateSha256' is missing");
        yield return Checkpoint("last.json with its epoch edited", c => EditJson(Path.Combine(c, "last.json"), j => j["epoch"] = 0), "last.json");
        yield return Checkpoint("checkpoint model file with 64 bytes flipped", c => Tamper.FlipTensorBytes(CheckpointFile(c, "modelFile")), "model.safetensors");
        yield return Checkpoint("checkpoint optimiser file missing", c => File.Delete(CheckpointFile(c, "optimizerFile")), "optimizer.bin");
        yield return Checkpoint("checkpoint RNG state not base64", c => EditJson(Path.Combine(c, "last.json"), j => j["cpuRngState"] = "***"), "last.json");
        yield return Checkpoint("checkpoint settings hash edited by hand", c => EditJson(Path.Combine(c, "last.json"), j => j["optionsHash"] = "0000"), "last.json");
        yield return new Case("checkpoints", "resuming with another learning rate", dir =>
        {
            var copy = CopyOf(checkpointFolder, dir);
            return (() => Resume(copy, new CaptionTrainerOptions { Epochs = 2, Seed = 1, LearningRate = 0.5 }), "last.json");
        });

        // Hugging Face checkpoint folders (a tiny ViT-GPT-2 made by the parity reference).
        yield return HubCheckpoint("config.json naming an unknown architecture", f => EditJson(Path.Combine(f, "config.json"), j => j["architectures"] = new JsonArray("LlavaForConditionalGeneration")), "'architectures'");
        yield return HubCheckpoint("config.json with a byte that is not UTF-8", f => ReplaceFirst(Path.Combine(f, "config.json"), "VisionEncoderDecoderModel"u8.ToArray(), [.. "Vision"u8, 0xC3, 0x28]), "config.json: line");
        yield return HubCheckpoint("merges.txt with a byte that is not UTF-8", f => File.AppendAllBytes(Path.Combine(f, "merges.txt"), [0x61, 0x20, 0xFF, 0x0A]), "merges.txt: line");
        yield return HubCheckpoint("config.json with more decoder layers than the weights", f => EditJson(Path.Combine(f, "config.json"), j => j["decoder"]!["n_layer"] = 3), "config.json describes");
        yield return HubCheckpoint("vocab.json with more tokens than the embeddings", f => EditJson(Path.Combine(f, "vocab.json"), j => j["zzz-extra"] = j.AsObject().Count), "'decoder.transformer.wte.weight'");
        yield return HubCheckpoint("pytorch_model.bin: a pickle calling posix.system", f =>
        {
            File.Delete(Path.Combine(f, "model.safetensors"));
            File.WriteAllBytes(Path.Combine(f, "pytorch_model.bin"),
                [.. LegacyPthPrefix, .. Encoding.Latin1.GetBytes("\u0080\u0002cposix\nsystem\nq\u0000X\u0002\u0000\u0000\u0000lsq\u0001\u0085q\u0002Rq\u0003.")]);
        }, "pytorch_model.bin");

        // Pipeline inputs.
        yield return new Case("pipeline", "Flickr8k folder missing", dir => (() => CaptionPipeline.Create().WithResNet50(CnnWeights.Random(1))
            .WithFlickr8k(Path.Combine(dir, "absent")).Build(), "absent"));
        yield return new Case("pipeline", "Flickr8k folder without an image folder", dir =>
        {
            File.WriteAllText(Path.Combine(dir, "captions.txt"), "image,caption\na.jpg,a dog\n");
            return (() => CaptionPipeline.Create().WithResNet50(CnnWeights.Random(1)).WithFlickr8k(dir).Build(), "Images");
        });
        yield return new Case("pipeline", "captions naming images that are not in the folder", dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "Images"));
            File.WriteAllText(Path.Combine(dir, "captions.txt"), "image,caption\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"a{i}.jpg,a dog\n")));
            return (() => CaptionPipeline.Create().WithResNet50(CnnWeights.Random(1)).WithFlickr8k(dir).WithFeatureCache(Path.Combine(dir, "cache")).Train(), "a0.jpg");
        });
    }

    [TestCaseSource(nameof(Cases))]
    public void IsRefusedWithAClearErrorNamingTheCulprit(Case input)
    {
        using var dir = new TempDirectory();
        var (call, names) = input.Arrange(dir.Path);

        var error = Assert.Catch(() => call(), $"{input} was accepted");

        Assert.That(IsBadInputReport(error!), Is.True, $"{input}: {error!.GetType().Name} is not how the library reports bad input:\n{error}");
        Assert.That(error.Message, Does.Contain(names), $"{input}: the message does not name {names}");
    }

    private static Case Captions(string input, string file, string text, Func<string, object> read, string names) =>
        CaptionBytes(input, file, Encoding.UTF8.GetBytes(text), read, names);

    private static Case CaptionBytes(string input, string file, byte[] bytes, Func<string, object> read, string names) => new("captions", input, dir =>
    {
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes);
        return (() => read(path), names.StartsWith('(') ? path + names : names);
    });

    private static Case Image(string input, string file, Func<string, byte[]> bytes) => new("images", input, dir =>
    {
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes(dir));
        return (() => ImageDecoder.Decode(path).Dispose(), path);
    });

    private static Case Weights(string input, string file, byte[] bytes) => new("weights", input, dir =>
    {
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes);
        return (() => ResNet50FeatureExtractor.FromFile(path).Dispose(), path);
    });

    private static Case Store(string input, Action<string> damage, string file) => new("feature stores", input, dir =>
    {
        var copy = CopyOf(storeFolder, dir);
        damage(copy);
        return (() =>
        {
            // As the pipeline reads a store: opened, then every row checked before training.
            using var store = FeatureStore.Open(copy);
            store.Verify();
        }, Path.Combine(copy, file));
    });

    private static Case Bundle(string input, Action<string> damage, string file, FolderIntegrity integrity = FolderIntegrity.Verified) => new("bundles", input, dir =>
    {
        var copy = CopyOf(bundleFolder, dir);
        damage(copy);
        return (() => CaptionModelBundle.Load(copy, integrity: integrity).Dispose(), Names(copy, file));
    });

    /// <summary>
    /// A bundle whose config.json was edited (with <paramref name="duplicateKey"/>, that top-level key written twice):
    /// loaded as an edited folder, so that the edit reaches the settings' own checks, unless <paramref name="integrity"/> says otherwise.
    /// </summary>
    private static Case EditedBundle(string input, Action<JsonNode> edit, string names, FolderIntegrity integrity = FolderIntegrity.AllowEdited, string? duplicateKey = null) =>
        Bundle(input, b => EditConfig(b, edit, duplicateKey), names, integrity);

    private static Case EditedCaptioner(string input, Action<JsonNode> edit, string names) =>
        SavedCaptioner(input, b => EditConfig(b, edit, null), names, FolderIntegrity.AllowEdited);

    private static Case SavedCaptioner(string input, Action<string> damage, string file, FolderIntegrity integrity = FolderIntegrity.Verified) =>
        DamagedCaptioner(() => bundleFolder, input, damage, file, integrity);

    private static Case Format1Captioner(string input, Action<string> damage, string file, FolderIntegrity integrity = FolderIntegrity.AllowEdited) =>
        DamagedCaptioner(() => CaptionerFolders.Format1Fixture, input, damage, file, integrity);

    // The folder is looked up when the case runs: the cases are listed before the good inputs are made.
    private static Case DamagedCaptioner(Func<string> folder, string input, Action<string> damage, string file, FolderIntegrity integrity) => new("bundles", input, dir =>
    {
        var copy = CopyOf(folder(), dir);
        damage(copy);
        return (() => ImageCaptioning.Pipeline.Captioner.Load(copy, integrity: integrity).Dispose(), Names(copy, file));
    });

    // A file of the folder is looked for with the folder's path; anything else (a key, a phrase) as it is.
    private static string Names(string folder, string file) =>
        !file.Contains(' ', StringComparison.Ordinal) && Path.GetExtension(file) is ".json" or ".txt" or ".safetensors" ? Path.Combine(folder, file) : file;

    private static void EditConfig(string folder, Action<JsonNode> edit, string? duplicateKey)
    {
        var path = Path.Combine(folder, "config.json");
        EditJson(path, edit);
        if (duplicateKey is null) return;
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var text = json.ToJsonString();
        File.WriteAllText(path, text[..^1] + $",\"{duplicateKey}\":{json[duplicateKey]!.ToJsonString()}}}");
    }

    private static void Rename(JsonObject json, string from, string to)
    {
        var value = json[from];
        json.Remove(from);
        json[to] = value;
    }

    private static Case Checkpoint(string input, Action<string> damage, string file) => new("checkpoints", input, dir =>
    {
        var copy = CopyOf(checkpointFolder, dir);
        var names = file == "last.json" ? Path.Combine(copy, file) : file;
        damage(copy);
        return (() => Resume(copy, new CaptionTrainerOptions { Epochs = 2, Seed = 1 }), names);
    });

    private static void Resume(string checkpoints, CaptionTrainerOptions options)
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, options with { CheckpointDirectory = checkpoints });
        trainer.Train(task.Dataset());
    }

    private static string CheckpointFile(string folder, string property) =>
        Path.Combine(folder, JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "last.json")))![property]!.GetValue<string>());

    // Made on first use: the cases are listed before the good inputs are made, and only these need the Python reference.
    private static readonly Lazy<string> checkpointFolderMade = new(() =>
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        return VitGpt2Fixture.Make(shared, "vit-gpt2", VitGpt2Fixture.Spec(["bin", "safetensors"]));
    });

    private static Case HubCheckpoint(string input, Action<string> damage, string names) => new("pretrained checkpoints", input, dir =>
    {
        var copy = CopyOf(checkpointFolderMade.Value, dir);
        damage(copy);
        return (() => PretrainedCaptioner.Load(copy).Dispose(), names);
    });

    private static void ReplaceFirst(string path, byte[] find, byte[] replacement)
    {
        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf(find);
        File.WriteAllBytes(path, [.. bytes[..at], .. replacement, .. bytes[(at + find.Length)..]]);
    }

    private static string CopyOf(string folder, string into)
    {
        var copy = Path.Combine(into, Path.GetFileName(folder));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(folder).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    private static void EditJson(string path, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static void Truncate(string path, int bytes)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length - bytes);
    }

    private static void FlipByte(string path, long offset)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x40;
        File.WriteAllBytes(path, bytes);
    }

    private static void ReplaceAscii(string path, string from, string to)
    {
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(path));
        if (!text.Contains(from, StringComparison.Ordinal)) throw new ArgumentException($"{path} holds no '{from}'");
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text.Replace(from, to, StringComparison.Ordinal)));
    }

    private static void SwapLines(string path)
    {
        var lines = File.ReadAllLines(path);
        var (a, b) = Enumerable.Range(4, lines.Length - 4).SelectMany(i => Enumerable.Range(i + 1, lines.Length - i - 1), (i, j) => (i, j))
            .First(p => lines[p.i].Length == lines[p.j].Length);
        (lines[a], lines[b]) = (lines[b], lines[a]);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A valid JPEG whose frame header (SOF0) claims 60000×60000 pixels.</summary>
    private static byte[] HugeJpeg()
    {
        var bytes = (byte[])jpeg.Clone();
        var sof = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        // FFC0, length (2), precision (1), then height and width, big-endian.
        bytes[sof + 5] = 0xEA;
        bytes[sof + 6] = 0x60;
        bytes[sof + 7] = 0xEA;
        bytes[sof + 8] = 0x60;
        return bytes;
    }

    /// <summary>A PNG of <paramref name="image"/> (8-bit RGB, one IDAT chunk of unfiltered rows), with correct CRCs.</summary>
    internal static byte[] PngOf(RgbImage image)
    {
        // No PNG encoder in the library: one IDAT chunk of unfiltered rows is a valid PNG.
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), image.Height);
        header[8] = 8;
        header[9] = 2;
        Chunk(output, "IHDR", header);
        using (var raw = new MemoryStream())
        {
            using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            {
                var pixels = image.Pixels.ToArray();
                for (var y = 0; y < image.Height; y++)
                {
                    zlib.WriteByte(0);
                    zlib.Write(pixels, y * image.Width * 3, image.Width * 3);
                }
            }
            Chunk(output, "IDAT", raw.ToArray());
        }
        Chunk(output, "IEND", []);
        return output.ToArray();

        static void Chunk(Stream stream, string type, byte[] data)
        {
            var lengthAndType = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(lengthAndType, data.Length);
            Encoding.ASCII.GetBytes(type, lengthAndType.AsSpan(4));
            stream.Write(lengthAndType);
            stream.Write(data);
            var crc = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. lengthAndType[4..], .. data]));
            stream.Write(crc);
        }
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    private static byte[] SafetensorsOf(string header)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>A zip checkpoint as torch.save writes it, with <paramref name="pickle"/> as archive/data.pkl (none when null).</summary>
    internal static byte[] ZipPth(byte[]? pickle)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var version = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) version.Write("3\n"u8);
            if (pickle is not null)
                using (var data = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) data.Write(pickle);
        }
        return output.ToArray();
    }
}

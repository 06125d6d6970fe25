using System.Text;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Persistence;
using ImageCaptioning.Tests.Samples;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Reliability;

/// <summary>
/// The bad command lines and files of README.md in this folder, given to the built samples as a new user would:
/// each must end with exit code 2 and an "error:" line saying what is wrong, never with a stack trace or a death by
/// signal (an abort, 134, a segmentation fault, 139, a floating-point exception, 136).
/// </summary>
[TestFixture]
public sealed class BadCommandLineCatalogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly string[] TinyTraining = ["--random-weights", "1", "--image-size", "32", "--epochs", "1", "--hidden", "16"];

    private static TempDirectory shared = null!;
    private static string flickr8k = null!;
    private static string model = null!;
    private static string image = null!;

    [OneTimeSetUp]
    public void MakeGoodInputs()
    {
        shared = new TempDirectory();
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 12, ImageSize = 32, Seed = 4 }).Generate(shared.File("flickr8k"));
        flickr8k = data.Directory;
        image = data.GetImagePath(data.Images[0].ImageId);
        var task = new TinyCaptionTask();
        model = shared.File("model");
        var captionModel = CaptionModel.Create(task.ModelOptions() with { FeatureDimension = ResNet50FeatureExtractor.FeatureDimension });
        using (var bundle = new CaptionModelBundle(captionModel, task.Tokenizer,
                   featureExtractor: new FeatureExtractorDescription("resnet50-avgpool", ResNet50FeatureExtractor.FeatureDimension, ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) })))
            CaptionerFolders.SaveCaptioner(model, bundle, FeatureNetwork.ResNet50, CnnWeights.Random(1));
    }

    [OneTimeTearDown]
    public void Delete() => shared.Dispose();

    /// <summary>A sample, its arguments (made under the folder given) and what its error line must say.</summary>
    public sealed record Case(string Sample, string Input, Func<string, string[]> Arguments, string Says)
    {
        public override string ToString() => $"{Sample}: {Input}";
    }

    public static IEnumerable<TestCaseData> Cases() => All().Select(c => new TestCaseData(c).SetArgDisplayNames(c.ToString()));

    /// <summary>Every case, for README.md's list and counts.</summary>
    public static IEnumerable<Case> All()
    {
        yield return new("QuickStart", "--images abc", d => ["--images", "abc", "--output", d], "Cannot parse argument 'abc'");
        yield return new("QuickStart", "--images 2 (too few to split)", d => ["--images", "2", "--epochs", "1", "--output", d], "needs at least 8 images");
        yield return new("QuickStart", "--lr -1", d => ["--lr", "-1", "--output", d], "--lr must be a positive number");
        yield return new("QuickStart", "--lr NaN", d => ["--lr", "NaN", "--output", d], "--lr must be a positive number");
        yield return new("QuickStart", "--image-size 8", d => ["--image-size", "8", "--output", d], "--image-size must be between 32 and 2048");
        yield return new("QuickStart", "--max-objects 20", d => ["--max-objects", "20", "--output", d], "--max-objects must be between 1 and 9");
        yield return new("QuickStart", "--epochs 0", d => ["--epochs", "0", "--output", d], "--epochs must be at least 1");
        yield return new("QuickStart", "an unknown option", d => ["--imgaes", "10", "--output", d], "--imgaes");
        yield return new("QuickStart", "--output naming a file", d => ["--images", "10", "--image-size", "32", "--output", Write(d, "taken", "a file")], "taken");

        yield return new("TrainFlickr8k", "--device gpu7", d => [flickr8k, "--device", "gpu7", "--output", d, .. TinyTraining], "--device");
        yield return new("TrainFlickr8k", "--weights: a .pth cut after its header", d =>
            [flickr8k, "--network", "resnet50", "--weights", Write(d, "cut.pth", BadInputCatalogTests.LegacyPthPrefix[..20]), "--output", d, "--image-size", "32", "--epochs", "1"], "cut.pth");
        yield return new("TrainFlickr8k", "--weights: a pickle calling posix.system", d =>
            [flickr8k, "--network", "resnet50", "--weights", Write(d, "evil.pth", [.. BadInputCatalogTests.LegacyPthPrefix,
                .. Encoding.Latin1.GetBytes("\u0080\u0002cposix\nsystem\nq\u0000X\u0002\u0000\u0000\u0000lsq\u0001\u0085q\u0002Rq\u0003.")]),
             "--output", d, "--image-size", "32", "--epochs", "1"], "posix.system");
        yield return new("TrainFlickr8k", "--weights: a text file", d =>
            [flickr8k, "--weights", Write(d, "vgg16.pth", "not weights"), "--output", d, "--image-size", "32", "--epochs", "1"], "vgg16.pth");
        yield return new("TrainFlickr8k", "--weights with --random-weights", d => [flickr8k, "--weights", "x.pth", "--random-weights", "1", "--output", d], "exclude each other");
        yield return new("TrainFlickr8k", "--output naming a file", d => [flickr8k, "--output", Write(d, "taken", "a file"), .. TinyTraining], "taken");
        yield return new("TrainFlickr8k", "--min-count 0", d => [flickr8k, "--min-count", "0", "--output", d, .. TinyTraining], "--min-count must be at least 1");
        yield return new("TrainFlickr8k", "--batch-size abc", d => [flickr8k, "--batch-size", "abc", "--output", d, .. TinyTraining], "Cannot parse argument 'abc'");
        yield return new("TrainFlickr8k", "captions naming images that are not in Images/", d =>
        {
            var root = Folder(d, "flickr");
            Directory.CreateDirectory(Path.Combine(root, "Images"));
            System.IO.File.WriteAllText(Path.Combine(root, "captions.txt"), "image,caption\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"a{i}.jpg,a dog runs\n")));
            return [root, "--output", Path.Combine(d, "out"), .. TinyTraining];
        }, "12 of 12 images named by the captions are missing");
        yield return new("TrainFlickr8k", "original layout: a split list naming an image without captions", d =>
        {
            var root = Folder(d, "flickr");
            var text = Folder(root, "Flickr8k_text");
            var images = Folder(root, "Flicker8k_Dataset");
            foreach (var file in Directory.GetFiles(Path.Combine(flickr8k, "Images"))) System.IO.File.Copy(file, Path.Combine(images, Path.GetFileName(file)));
            var names = Directory.GetFiles(images).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            System.IO.File.WriteAllText(Path.Combine(text, "Flickr8k.token.txt"), string.Concat(names.Select(n => $"{n}#0\ta dog runs on the grass\n")));
            System.IO.File.WriteAllText(Path.Combine(text, "Flickr_8k.trainImages.txt"), string.Join("\n", names[..8]) + "\n");
            System.IO.File.WriteAllText(Path.Combine(text, "Flickr_8k.testImages.txt"), string.Join("\n", names[8..]) + "\nnot_there.jpg\n");
            return [root, "--output", Path.Combine(d, "out"), .. TinyTraining];
        }, "Flickr_8k.testImages.txt(5): image 'not_there.jpg' has no caption in Flickr8k.token.txt");

        yield return new("CaptionImages", "--beam 0", _ => [model, image, "--beam", "0"], "--beam must be at least 1");
        yield return new("CaptionImages", "--temperature -1", _ => [model, image, "--temperature", "-1"], "--temperature must be a positive number");
        yield return new("CaptionImages", "--top-k without --temperature", _ => [model, image, "--top-k", "5"], "add --temperature");
        yield return new("CaptionImages", "--device tpu", _ => [model, image, "--device", "tpu"], "--device");
        yield return new("CaptionImages", "a folder without images", d => [model, Folder(d, "empty")], "has no .jpg, .jpeg or .png files");
        yield return new("CaptionImages", "a model folder that is not a captioner", d => [Folder(d, "not-a-model"), image], "is not a saved captioner");
        yield return new("CaptionImages", "config.json not JSON", d => [DamagedModel(d, m => System.IO.File.WriteAllText(Path.Combine(m, "config.json"), "{")), image], "config.json");
        yield return new("CaptionImages", "config.json naming an unknown network, edits allowed", d =>
            [DamagedModel(d, m => EditCaptioner(m, "network", "AlexNet")), image, "--allow-edited"], "'captioner.network' is 'AlexNet'");
        yield return new("CaptionImages", "a model bundle without captioner settings, edits allowed", d =>
            [DamagedModel(d, m => EditCaptioner(m, null, null)), image, "--allow-edited"], "is not a saved captioner");
        yield return new("CaptionImages", "config.json with decoding.maxLength edited", d =>
            [DamagedModel(d, m => EditConfig(m, c => c["decoding"]!["maxLength"] = 2)), image], "config.json was changed or damaged after it was saved");
        yield return new("CaptionImages", "config.json with preprocessing resizeMode misspelt, edits allowed", d =>
            [DamagedModel(d, m => EditConfig(m, c => RenameKey(c["featureExtractor"]!["preprocessing"]!.AsObject(), "resizeMode", "resizeModg"))), image, "--allow-edited"],
            "'featureExtractor.preprocessing.resizeModg'");
        yield return new("CaptionImages", "config.json with preprocessing that gives no fixed size, edits allowed", d =>
            [DamagedModel(d, m => EditConfig(m, c => c["featureExtractor"]!["preprocessing"]!.AsObject().Remove("resizeMode"))), image, "--allow-edited"],
            "'featureExtractor.preprocessing' is invalid");
        yield return new("CaptionImages", "model.safetensors truncated", d => [DamagedModel(d, m => Truncate(Path.Combine(m, "model.safetensors"))), image], "model.safetensors");
        yield return new("CaptionImages", "vocab.txt edited", d => [DamagedModel(d, m => System.IO.File.AppendAllText(Path.Combine(m, "vocab.txt"), "zebra\n")), image], "vocab.txt");
        yield return new("CaptionImages", "a truncated JPEG among good ones (counted, the others captioned)", d =>
        {
            var folder = Folder(d, "photos");
            System.IO.File.Copy(image, Path.Combine(folder, "a.jpg"));
            var bytes = System.IO.File.ReadAllBytes(image);
            System.IO.File.WriteAllBytes(Path.Combine(folder, "b.jpg"), bytes[..(bytes.Length / 2)]);
            return [model, folder];
        }, "1 of 2 images could not be captioned");

        yield return new("DataGenerators", "--output naming a file", d => ["--output", Write(d, "taken", "a file")], "taken");
        yield return new("DataGenerators", "an unknown argument", _ => ["--ouptut", "x"], "--ouptut");
    }

    [TestCaseSource(nameof(Cases))]
    public void EndsWithExitCode2AndAnErrorLine(Case input)
    {
        using var dir = new TempDirectory();

        var run = DotnetCommand.RunSample(input.Sample, input.Arguments(dir.Path), Timeout);

        Assert.That(run.Signal, Is.Null, $"{input}: the process aborted or crashed\n{run.Transcript}");
        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain(input.Says), run.Transcript);
        SampleAssert.NoStackTrace(run);
    }

    private static string Folder(string parent, string name)
    {
        var path = Path.Combine(parent, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Write(string folder, string name, string text) => Write(folder, name, Encoding.UTF8.GetBytes(text));

    private static string Write(string folder, string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string DamagedModel(string folder, Action<string> damage)
    {
        var copy = Folder(folder, "model");
        foreach (var file in Directory.GetFiles(model)) System.IO.File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        damage(copy);
        return copy;
    }

    /// <summary>Sets <paramref name="key"/> of config.json's captioner section to <paramref name="value"/>, or with a null key removes the section.</summary>
    private static void EditCaptioner(string folder, string? key, string? value) => EditConfig(folder, config =>
    {
        if (key is null) config.Remove("captioner");
        else config["captioner"]![key] = value;
    });

    private static void EditConfig(string folder, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var path = Path.Combine(folder, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        edit(config);
        System.IO.File.WriteAllText(path, config.ToJsonString());
    }

    private static void RenameKey(System.Text.Json.Nodes.JsonObject json, string from, string to)
    {
        var value = json[from];
        json.Remove(from);
        json[to] = value;
    }

    private static void Truncate(string path)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length / 2);
    }
}

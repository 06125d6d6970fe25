using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

/// <summary>The dataset as written to disk and read back through the library's real reading path.</summary>
[TestFixture]
public sealed class SyntheticDatasetTests
{
    private static readonly SyntheticDatasetOptions SharedOptions = new()
    {
        ImageCount = 200, ImageSize = 128, BackgroundColors = [SyntheticColor.Gray, SyntheticColor.Cyan],
    };

    private TempDirectory shared = null!;
    private SyntheticDataset dataset = null!;

    [OneTimeSetUp]
    public void GenerateShared()
    {
        shared = new TempDirectory();
        dataset = new SyntheticCaptionedImages(SharedOptions).Generate(shared.Path);
    }

    [OneTimeTearDown]
    public void DeleteShared() => shared.Dispose();

    private static Dictionary<string, byte[]> ReadTree(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(path => Path.GetRelativePath(root, path), File.ReadAllBytes);

    [Test]
    public void Writes_the_Flickr8k_layout()
    {
        Assert.That(dataset.ReusedExisting, Is.False);
        Assert.That(dataset.Directory, Is.EqualTo(Path.GetFullPath(shared.Path)));
        Assert.That(dataset.CaptionsPath, Is.EqualTo(Path.Combine(shared.Path, "captions.txt")));
        Assert.That(Directory.GetFiles(dataset.ImagesDirectory).Select(Path.GetFileName), Is.EquivalentTo(dataset.Images.Select(i => i.ImageId)));
        Assert.That(dataset.Images[42].ImageId, Is.EqualTo("synthetic_00042.jpg"));
        Assert.That(dataset.GetImagePath("synthetic_00042.jpg"), Is.EqualTo(Path.Combine(shared.Path, "Images", "synthetic_00042.jpg")));
        Assert.That(File.ReadLines(dataset.CaptionsPath).First(), Is.EqualTo("image,caption"));
        Assert.That(Directory.GetFiles(shared.Path, "*.tmp", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void Captions_read_back_with_the_Flickr8k_reader_exactly_as_described()
    {
        var corpus = CaptionReader.ReadFlickr8kCsv(dataset.CaptionsPath);

        Assert.That(corpus.ImageIds, Is.EqualTo(dataset.Images.Select(i => i.ImageId)));
        foreach (var image in dataset.Images)
            Assert.That(corpus[image.ImageId], Is.EqualTo(image.Captions), image.ImageId);
        Assert.That(corpus.Entries(), Is.EqualTo(dataset.ToCaptionCorpus().Entries()));
        // Lists of three objects have commas, so the quoting path of the CSV is exercised.
        Assert.That(File.ReadAllText(dataset.CaptionsPath), Does.Contain(",\"a "));

        var cleaned = new CaptionCleaner().Clean(corpus);
        Assert.That((cleaned.EmptyCaptionsDropped, cleaned.ImagesDropped, cleaned.Corpus.CaptionCount), Is.EqualTo((0, 0, 200 * 5)));
    }

    [Test]
    public void Images_decode_to_the_image_size_with_each_object_in_its_colour_at_its_centre()
    {
        var palette = SharedOptions.Colors.Concat(SharedOptions.BackgroundColors).ToArray();
        var worst = 0.0;
        foreach (var image in dataset.Images)
        {
            using var decoded = ImageDecoder.Decode(dataset.GetImagePath(image.ImageId));
            Assert.That((decoded.Width, decoded.Height), Is.EqualTo((128, 128)));
            foreach (var o in image.Scene.Objects)
                worst = Math.Max(worst, AssertNearest(decoded, (int)o.CenterX, (int)o.CenterY, o.Color, palette, $"{image.ImageId} {o}"));
            // Shapes stay inside their cells' inner part, so the image corners show the background.
            AssertNearest(decoded, 0, 0, image.Scene.Background, palette, $"{image.ImageId} corner");
            AssertNearest(decoded, 127, 127, image.Scene.Background, palette, $"{image.ImageId} corner");
        }
        TestContext.Out.WriteLine($"largest distance of a centre pixel from its object's colour after JPEG: {worst:F1}");
    }

    [Test]
    public void Default_sized_images_are_224_pixels_and_match_the_rendered_scene()
    {
        using var temp = new TempDirectory();
        var options = new SyntheticDatasetOptions { ImageCount = 12, Seed = 5 };
        var written = new SyntheticCaptionedImages(options).Generate(temp.Path);

        foreach (var image in written.Images)
        {
            using var decoded = ImageDecoder.Decode(written.GetImagePath(image.ImageId));
            using var rendered = image.Scene.Render();
            Assert.That((decoded.Width, decoded.Height), Is.EqualTo((224, 224)));
            long sum = 0;
            for (var i = 0; i < rendered.ByteCount; i++) sum += Math.Abs(decoded.Pixels[i] - rendered.Pixels[i]);
            Assert.That((double)sum / rendered.ByteCount, Is.LessThan(4.0), image.ImageId);
            foreach (var o in image.Scene.Objects)
                Assert.That(rendered.GetPixel((int)o.CenterX, (int)o.CenterY), Is.EqualTo((o.Color.R, o.Color.G, o.Color.B)));
        }
    }

    private static double AssertNearest(RgbImage image, int x, int y, SyntheticColor expected, SyntheticColor[] palette, string what)
    {
        var (r, g, b) = image.GetPixel(x, y);
        var actual = new SyntheticColor("pixel", r, g, b);
        var nearest = palette.MinBy(actual.DistanceTo)!;
        Assert.That(nearest, Is.EqualTo(expected), $"{what}: pixel ({x}, {y}) is {actual}");
        Assert.That(actual.DistanceTo(expected), Is.LessThan(40), $"{what}: pixel ({x}, {y}) is {actual}");
        return actual.DistanceTo(expected);
    }

    [Test]
    public void A_missing_folder_is_created()
    {
        using var temp = new TempDirectory();
        var root = Path.Combine(temp.Path, "not", "there", "yet");

        var written = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 3, ImageSize = 32 }).Generate(root);

        Assert.That(CaptionReader.ReadFlickr8kCsv(written.CaptionsPath).ImageCount, Is.EqualTo(3));
        Assert.That(Directory.GetFiles(written.ImagesDirectory), Has.Length.EqualTo(3));
    }

    [Test]
    public void Generating_twice_gives_byte_identical_folders()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        using var reseeded = new TempDirectory();
        var options = new SyntheticDatasetOptions { ImageCount = 25, ImageSize = 64, Seed = 3 };

        new SyntheticCaptionedImages(options).Generate(first.Path);
        new SyntheticCaptionedImages(options with { }).Generate(second.Path);
        new SyntheticCaptionedImages(options with { Seed = 4 }).Generate(reseeded.Path);

        var a = ReadTree(first.Path);
        var b = ReadTree(second.Path);
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (name, bytes) in a) Assert.That(b[name], Is.EqualTo(bytes), name);
        Assert.That(ReadTree(reseeded.Path)["captions.txt"], Is.Not.EqualTo(a["captions.txt"]));
    }

    [Test]
    public void A_complete_dataset_of_the_same_options_is_reused_without_writing()
    {
        using var temp = new TempDirectory();
        var options = new SyntheticDatasetOptions { ImageCount = 20, ImageSize = 48 };
        new SyntheticCaptionedImages(options).Generate(temp.Path);
        var files = Directory.GetFiles(temp.Path, "*", SearchOption.AllDirectories);
        var stamps = files.ToDictionary(f => f, File.GetLastWriteTimeUtc);
        // Make any rewrite visible even on file systems with coarse timestamps.
        foreach (var file in files) File.SetLastWriteTimeUtc(file, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var again = new SyntheticCaptionedImages(options with { }).Generate(temp.Path);

        Assert.That(again.ReusedExisting, Is.True);
        Assert.That(files.Select(File.GetLastWriteTimeUtc), Has.All.EqualTo(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.That(again.Images.Select(i => i.Captions[0]), Is.EqualTo(new SyntheticCaptionedImages(options).Describe().Select(i => i.Captions[0])));
        Assert.That(stamps, Has.Count.EqualTo(20 + 2));
    }

    [Test]
    public void A_missing_or_altered_file_or_a_broken_manifest_makes_it_regenerate()
    {
        using var temp = new TempDirectory();
        var options = new SyntheticDatasetOptions { ImageCount = 15, ImageSize = 48 };
        var generator = new SyntheticCaptionedImages(options);
        var original = ReadTree(generator.Generate(temp.Path).Directory);

        File.Delete(Path.Combine(temp.Path, "Images", "synthetic_00007.jpg"));
        Assert.That(generator.Generate(temp.Path).ReusedExisting, Is.False);
        Assert.That(ReadTree(temp.Path), Is.EquivalentTo(original));

        File.AppendAllText(Path.Combine(temp.Path, "captions.txt"), "synthetic_00001.jpg,an extra caption\n");
        Assert.That(generator.Generate(temp.Path).ReusedExisting, Is.False);
        Assert.That(ReadTree(temp.Path), Is.EquivalentTo(original));

        File.WriteAllText(Path.Combine(temp.Path, "synthetic.json"), "{ not json");
        Assert.That(generator.Generate(temp.Path).ReusedExisting, Is.False);
        Assert.That(ReadTree(temp.Path), Is.EquivalentTo(original));
        Assert.That(generator.Generate(temp.Path).ReusedExisting, Is.True);
    }

    [Test]
    public void Other_options_regenerate_and_remove_only_the_images_no_longer_generated()
    {
        using var temp = new TempDirectory();
        new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 12, ImageSize = 48 }).Generate(temp.Path);
        File.WriteAllText(temp.File("notes.txt"), "mine");
        File.WriteAllText(Path.Combine(temp.Path, "Images", "mine.jpg"), "mine");

        var smaller = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 5, ImageSize = 48, Seed = 1 }).Generate(temp.Path);

        Assert.That(smaller.ReusedExisting, Is.False);
        Assert.That(Directory.GetFiles(smaller.ImagesDirectory).Select(Path.GetFileName),
            Is.EquivalentTo(smaller.Images.Select(i => i.ImageId).Append("mine.jpg")));
        Assert.That(File.ReadAllText(temp.File("notes.txt")), Is.EqualTo("mine"));
        Assert.That(CaptionReader.ReadFlickr8kCsv(smaller.CaptionsPath).ImageCount, Is.EqualTo(5));
    }

    [Test]
    public void Progress_counts_images_and_cancellation_leaves_no_manifest()
    {
        using var temp = new TempDirectory();
        var generator = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 10, ImageSize = 32 });
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.That(() => generator.Generate(temp.Path, cancellationToken: cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(File.Exists(temp.File("synthetic.json")), Is.False);

        var reports = new List<int>();
        var progress = new SynchronousProgress(reports.Add);
        generator.Generate(temp.Path, progress: progress);
        Assert.That(reports, Is.EqualTo(Enumerable.Range(1, 10)));
        Assert.That(File.Exists(temp.File("synthetic.json")), Is.True);
    }

    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}

using ImageCaptioning.Features;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Data;
using ImageCaptioning.Tests.Vision;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Features;

/// <summary>
/// Extraction into a store with a real (random-weight) ResNet-50 on the reference images, shrunk to 64×64 so that
/// the network is quick: interrupted runs resume to exactly the features of an uninterrupted one.
/// </summary>
[TestFixture]
public sealed class FeatureExtractionTests
{
    private const int BatchSize = 3;

    private static readonly FeatureExtractorOptions Small = new()
    {
        Transform = new ImageTransformOptions { Resize = ImageResize.To(64, 64) },
        Device = torch.CPU,
        BatchSize = BatchSize,
        DecodeThreads = 2,
    };

    private static ResNet50FeatureExtractor? extractor;
    private static string[] images = null!;
    private TempDirectory scratch = null!;

    [OneTimeSetUp]
    public static void CreateExtractor()
    {
        images = ReferenceImages.Get().Entries.Select(e => e.Path).ToArray();
        extractor = ResNet50FeatureExtractor.CreateRandom(11, options: Small);
    }

    [OneTimeTearDown]
    public static void DisposeExtractor() => extractor?.Dispose();

    [SetUp]
    public void CreateScratch() => scratch = new TempDirectory();

    [TearDown]
    public void DeleteScratch() => scratch.Dispose();

    private static byte[] StoreFile(string directory, string name) => File.ReadAllBytes(Path.Combine(directory, name));

    private string Uninterrupted()
    {
        var directory = scratch.File("uninterrupted");
        using var store = FeatureStore.OpenOrCreate(directory, extractor!);
        var result = FeatureExtraction.Run(extractor!, images, store);
        Assert.That((result.Requested, result.Skipped, result.Extracted), Is.EqualTo((images.Length, 0, images.Length)));
        return directory;
    }

    private static void AssertSameStore(string actual, string expected)
    {
        Assert.That(StoreFile(actual, FeatureStore.IdsFileName), Is.EqualTo(StoreFile(expected, FeatureStore.IdsFileName)), "ids.txt");
        Assert.That(StoreFile(actual, FeatureStore.FeaturesFileName), Is.EqualTo(StoreFile(expected, FeatureStore.FeaturesFileName)), "features.npy");
    }

    [Test]
    public void The_store_holds_the_extractors_features_under_the_file_names()
    {
        var directory = Uninterrupted();
        using var store = FeatureStore.Open(directory);
        Assert.That(store.ImageIds, Is.EqualTo(images.Select(Path.GetFileName)));
        Assert.That((store.Extractor, store.Preprocessing), Is.EqualTo(("resnet50-avgpool", Small.DescribePreprocessing())));
        Assert.That(store.Preprocessing, Is.EqualTo("Resize(64x64) ToTensor Normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])"));
        var direct = extractor!.Extract(images);
        var row = new float[store.Dimension];
        for (var i = 0; i < images.Length; i++)
        {
            store.Read(i, row);
            Assert.That(row, Is.EqualTo(direct.Row(i).ToArray()), images[i]);
        }
    }

    [Test]
    public void Cancelled_then_resumed_extraction_equals_an_uninterrupted_run()
    {
        var expected = Uninterrupted();
        var directory = scratch.File("cancelled");
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<ExtractionProgress>(p =>
        {
            if (p.Done >= 2 * BatchSize) cancellation.Cancel();
        });
        using (var store = FeatureStore.OpenOrCreate(directory, extractor!))
        {
            Assert.That(() => FeatureExtraction.Run(extractor!, images, store, progress, cancellationToken: cancellation.Token),
                Throws.InstanceOf<OperationCanceledException>());
            Assert.That(store.Count, Is.EqualTo(2 * BatchSize), "the batches before the cancellation are committed");
        }

        var logger = new ListLogger();
        using (var store = FeatureStore.OpenOrCreate(directory, extractor!))
        {
            var result = FeatureExtraction.Run(extractor!, images, store, logger: logger);
            Assert.That((result.Skipped, result.Extracted), Is.EqualTo((2 * BatchSize, images.Length - 2 * BatchSize)));
        }

        Assert.That(logger.Entries.Select(e => e.Message), Has.Some.Contains($"{images.Length - 2 * BatchSize} images to extract, {2 * BatchSize} already stored"));
        AssertSameStore(directory, expected);
    }

    [Test]
    public void A_failure_after_k_batches_and_a_torn_write_resume_to_the_uninterrupted_store()
    {
        var expected = Uninterrupted();
        var directory = scratch.File("failed");
        using (var store = FeatureStore.OpenOrCreate(directory, extractor!))
        {
            var failing = new FailingExtractor(extractor!, failAfterBatches: 4);
            Assert.That(() => FeatureExtraction.Run(failing, images, store), Throws.InstanceOf<IOException>().With.Message.EqualTo("disk on fire"));
        }

        // The process then dies inside the next append: rows and ids written past the commit, store.json untouched.
        var featuresPath = Path.Combine(directory, FeatureStore.FeaturesFileName);
        using (var features = new FileStream(featuresPath, FileMode.Append))
            features.Write(Enumerable.Range(0, 2500 * sizeof(float) + 3).Select(i => (byte)(i * 31)).ToArray());
        File.AppendAllText(Path.Combine(directory, FeatureStore.IdsFileName), "never-committed.jpg\nhalf-writ");

        using (var reader = FeatureStore.Open(directory))
            Assert.That(reader.Count, Is.EqualTo(4 * BatchSize), "the torn write is not part of the store");

        using (var store = FeatureStore.OpenOrCreate(directory, extractor!))
        {
            var result = FeatureExtraction.Run(extractor!, images, store);
            Assert.That((result.Skipped, result.Extracted), Is.EqualTo((4 * BatchSize, images.Length - 4 * BatchSize)));
            var again = FeatureExtraction.Run(extractor!, images, store);
            Assert.That((again.Skipped, again.Extracted), Is.EqualTo((images.Length, 0)), "a finished store extracts nothing");
        }

        AssertSameStore(directory, expected);
    }

    [Test]
    public void A_store_of_another_extractor_or_preprocessing_is_refused()
    {
        var directory = scratch.File("other");
        using (FeatureStore.OpenOrCreate(directory, 2048, "resnet50-avgpool", "Resize(224x224) ToTensor")) { }
        using var store = FeatureStore.OpenOrCreate(directory, 2048);
        var exception = Assert.Throws<FeatureStoreException>(() => FeatureExtraction.Run(extractor!, images, store))!;
        Assert.That(exception.Message, Does.Contain(store.IndexPath).And.Contain("Resize(224x224) ToTensor"));
        Assert.That(store.Count, Is.EqualTo(0));
    }

    [Test]
    public void Extraction_leaks_no_tensors_even_when_abandoned_or_failing()
    {
        var live = Tensor.TotalCount;
        extractor!.Extract(images);
        using (var streams = new StreamList(images.Take(4)))
            extractor!.Extract(streams.Streams);
        foreach (var _ in extractor!.ExtractBatches(images)) break;
        var corrupt = scratch.File("corrupt.png");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(images.First(p => p.EndsWith(".png", StringComparison.Ordinal)))[..300]);
        Assert.Throws<ImageDecodeException>(() => extractor!.Extract([images[0], corrupt, images[1], images[2]]));
        Assert.That(Tensor.TotalCount, Is.EqualTo(live));
    }

    [Test]
    public void Duplicate_input_ids_are_refused_before_any_work()
    {
        using var store = FeatureStore.OpenOrCreate(scratch.File("dup"), extractor!);
        var exception = Assert.Throws<ArgumentException>(() => FeatureExtraction.Run(extractor!, [images[0], images[1], images[0]], store))!;
        Assert.That(exception.Message, Does.Contain(Path.GetFileName(images[0])));
        Assert.That(store.Count, Is.EqualTo(0));
    }

    private sealed class StreamList(IEnumerable<string> paths) : IDisposable
    {
        public Stream[] Streams { get; } = paths.Select(p => (Stream)File.OpenRead(p)).ToArray();

        public void Dispose()
        {
            foreach (var stream in Streams) stream.Dispose();
        }
    }

    /// <summary>Delegates to a real extractor and throws after a number of batches, like a failing disk or device.</summary>
    private sealed class FailingExtractor(IFeatureExtractor inner, int failAfterBatches) : IFeatureExtractor
    {
        public string Name => inner.Name;
        public int Dimension => inner.Dimension;
        public FeatureExtractorOptions Options => inner.Options;
        public Device Device => inner.Device;
        public Tensor Forward(Tensor images) => inner.Forward(images);

        public IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<string> imagePaths, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default) =>
            Fail(inner.ExtractBatches(imagePaths, progress, cancellationToken));

        public IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<Stream> images, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default) =>
            Fail(inner.ExtractBatches(images, progress, cancellationToken));

        public void Dispose() { }

        private IEnumerable<ExtractedFeatures> Fail(IEnumerable<ExtractedFeatures> batches)
        {
            var count = 0;
            foreach (var batch in batches)
            {
                if (count++ == failAfterBatches) throw new IOException("disk on fire");
                yield return batch;
            }
        }
    }
}

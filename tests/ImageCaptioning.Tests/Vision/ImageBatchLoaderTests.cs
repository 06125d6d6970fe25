using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class ImageBatchLoaderTests
{
    private static string[] ReferencePaths() => ReferenceImageNames.All.Select(n => ReferenceImages.Get()[n].Path).ToArray();

    [Test]
    public void Batches_equal_the_sequential_transform_in_order()
    {
        var paths = ReferencePaths();
        var transform = new ImageTransform(ImageTransformOptions.Recipe224);
        var loader = new ImageBatchLoader(paths, transform, new ImageBatchLoaderOptions { BatchSize = 6, DecodeThreads = 3, PrefetchBatches = 2 });
        Assert.That(loader.BatchCount, Is.EqualTo((paths.Length + 5) / 6));

        var seen = new List<string>();
        foreach (var batch in loader)
        {
            using (batch)
            {
                Assert.That(batch.StartIndex, Is.EqualTo(seen.Count));
                Assert.That(batch.Images.shape, Is.EqualTo(new long[] { batch.Count, 3, 224, 224 }));
                for (var i = 0; i < batch.Count; i++)
                {
                    using var image = ImageDecoder.Decode(batch.Paths[i]);
                    using var expected = transform.Apply(image);
                    using var actual = batch.Images.select(0, i);
                    Assert.That(actual.ToArray<float>(), Is.EqualTo(expected.ToArray<float>()), batch.Paths[i]);
                }

                seen.AddRange(batch.Paths);
            }
        }

        Assert.That(seen, Is.EqualTo(paths), "every path once, in order; the last batch is partial");
    }

    [Test]
    public void Undecodable_file_stops_at_its_batch_naming_the_path_and_frees_everything()
    {
        using var scratch = new TempDirectory();
        var paths = ReferencePaths().Take(9).ToList();
        var corrupt = scratch.File("corrupt.jpg");
        var bytes = File.ReadAllBytes(paths[0]);
        File.WriteAllBytes(corrupt, bytes[..(bytes.Length / 3)]);
        paths.Insert(7, corrupt);

        var loader = new ImageBatchLoader(paths, new ImageTransform(ImageTransformOptions.Standard256Crop224),
            new ImageBatchLoaderOptions { BatchSize = 3, DecodeThreads = 2, PrefetchBatches = 2 });
        var liveBefore = Tensor.TotalCount;
        var delivered = 0;
        var exception = Assert.Throws<ImageDecodeException>(() =>
        {
            foreach (var batch in loader)
                using (batch) delivered += batch.Count;
        })!;

        Assert.Multiple(() =>
        {
            Assert.That(delivered, Is.EqualTo(6), "the two batches before the corrupt file's batch arrive");
            Assert.That(exception.SourceName, Is.EqualTo(corrupt));
            Assert.That(exception.Message, Does.Contain(corrupt));
            Assert.That(Tensor.TotalCount, Is.EqualTo(liveBefore), "prefetched tensors are freed");
        });
    }

    [Test]
    public void Stopping_early_frees_the_prefetched_work()
    {
        var paths = Enumerable.Repeat(ReferencePaths(), 3).SelectMany(p => p).ToArray();
        var loader = new ImageBatchLoader(paths, new ImageTransform(ImageTransformOptions.Recipe224),
            new ImageBatchLoaderOptions { BatchSize = 4, DecodeThreads = 2, PrefetchBatches = 3 });
        var liveBefore = Tensor.TotalCount;
        foreach (var batch in loader)
        {
            batch.Dispose();
            break;
        }

        Assert.That(Tensor.TotalCount, Is.EqualTo(liveBefore));
    }

    [Test]
    public void Missing_file_surfaces_as_FileNotFoundException_with_the_path()
    {
        using var scratch = new TempDirectory();
        var missing = scratch.File("missing.png");
        var loader = new ImageBatchLoader([ReferencePaths()[0], missing], new ImageTransform(ImageTransformOptions.Recipe224));
        var exception = Assert.Throws<FileNotFoundException>(() => loader.ToList().ForEach(b => b.Dispose()))!;
        Assert.That(exception.Message, Does.Contain(missing));
    }

    [Test]
    public void Transform_without_a_fixed_output_size_is_refused()
    {
        var transform = new ImageTransform(new ImageTransformOptions { Resize = ImageResize.ShorterSideTo(256) });
        Assert.Throws<ArgumentException>(() => _ = new ImageBatchLoader(ReferencePaths(), transform));
    }

    [Test]
    public void DecodeInOrder_keeps_the_order_of_mixed_sizes()
    {
        var references = ReferenceImageNames.All.Select(n => ReferenceImages.Get()[n]).Reverse().ToArray();
        var index = 0;
        foreach (var image in ImageBatchLoader.DecodeInOrder(references.Select(r => r.Path), decodeThreads: 4, window: 6))
        {
            using (image)
            {
                Assert.That(image.Source, Is.EqualTo(references[index].Path));
                Assert.That(image.Pixels.ToArray(), Is.EqualTo(references[index].PilRgb()));
                index++;
            }
        }

        Assert.That(index, Is.EqualTo(references.Length));
    }
}

using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class ImageTransformTests
{
    [Test]
    public void Batch_is_the_stack_of_single_images()
    {
        var references = new[] { "photo_q90.jpg", "small_97x61.png", "tall_50x700.png" }.Select(n => ReferenceImages.Get()[n]);
        var images = references.Select(r => ImageDecoder.Decode(r.Path)).ToList();
        try
        {
            var transform = new ImageTransform(ImageTransformOptions.Standard256Crop224);
            using var scope = torch.NewDisposeScope();
            var batch = transform.Apply(images);
            Assert.That(batch.shape, Is.EqualTo(new long[] { 3, 3, 224, 224 }));
            for (var i = 0; i < images.Count; i++)
            {
                var single = transform.Apply(images[i]);
                Assert.That(batch.select(0, i).ToArray<float>(), Is.EqualTo(single.ToArray<float>()), images[i].Source);
            }
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    [Test]
    public void Batch_of_differently_shaped_outputs_names_the_images()
    {
        using var wide = RgbImage.FromPixels(4, 2, new byte[24], "wide");
        using var tall = RgbImage.FromPixels(2, 4, new byte[24], "tall");
        var transform = new ImageTransform(new ImageTransformOptions { Resize = ImageResize.ShorterSideTo(8) });
        var exception = Assert.Throws<ArgumentException>(() => transform.Apply([wide, tall]))!;
        Assert.That(exception.Message, Does.Contain("wide").And.Contain("tall").And.Contain("16x8").And.Contain("8x16"));
    }

    [Test]
    public void Transform_leaves_no_tensor_behind()
    {
        using var image = ImageDecoder.Decode(ReferenceImages.Get()["photo_q90.jpg"].Path);
        var transform = new ImageTransform(ImageTransformOptions.Recipe224);
        var before = Tensor.TotalCount;
        using (transform.Apply(image)) { }
        using (transform.Apply([image, image])) { }
        Assert.That(Tensor.TotalCount, Is.EqualTo(before));
    }

    [Test]
    public void ToTensor_is_bytes_over_255_in_CHW()
    {
        using var image = RgbImage.FromPixels(2, 1, [0, 51, 255, 102, 153, 204]);
        using var tensor = ImageTransform.ToTensor(image);
        Assert.That(tensor.shape, Is.EqualTo(new long[] { 3, 1, 2 }));
        Assert.That(tensor.ToArray<float>(), Is.EqualTo(new[] { 0f, 102 / 255f, 51 / 255f, 153 / 255f, 1f, 204 / 255f }));
    }

    [TestCase(500, 375, 256, 341, 256)]
    [TestCase(333, 517, 256, 256, 397)]
    [TestCase(256, 256, 256, 256, 256)]
    [TestCase(50, 700, 256, 256, 3584)]
    public void Shorter_side_resize_truncates_the_longer_side_like_torchvision(int width, int height, int size, int expectedWidth, int expectedHeight)
    {
        Assert.That(ImageResize.ShorterSideTo(size).GetOutputSize(new ImageSize(width, height)),
            Is.EqualTo(new ImageSize(expectedWidth, expectedHeight)));
    }

    [Test]
    public void Options_reject_invalid_settings()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => ImageResize.To(0, 5));
            Assert.Throws<ArgumentOutOfRangeException>(() => ImageResize.ShorterSideTo(256, maxSize: 256));
            Assert.Throws<ArgumentException>(() => _ = new ImageTransformOptions { Mean = [0.5f, 0.5f] });
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ImageTransformOptions { Std = [0.5f, 0f, 0.5f] });
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ImageTransformOptions { CenterCrop = new ImageSize(0, 3) });
        });
    }
}


namespace ImageCaptioning.Vision;

/// <summary>
/// Applies an <see cref="ImageTransformOptions"/> eval transform to decoded images on libtorch, reproducing
/// torchvision's transforms on PIL images: the resize is PIL's antialiased bilinear resample with Pillow's own
/// fixed-point arithmetic (so its bytes are PIL's), the crop offsets are rounded as torchvision rounds them, and <c>ToTensor</c>/<c>Normalize</c>
/// run the same float32 operations. Thread-safe.
/// </summary>
public sealed class ImageTransform
{
    /// <summary>Creates the transform.</summary>
    public ImageTransform(ImageTransformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>The transform's settings.</summary>
    public ImageTransformOptions Options { get; }

    /// <summary>Transforms one image into a normalised float32 <c>[3, H, W]</c> tensor on <paramref name="device"/> (CPU by default).</summary>
    public Tensor Apply(RgbImage image, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = torch.NewDisposeScope();
        return Normalize(Geometry(image, device ?? torch.CPU)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Transforms images into one normalised float32 <c>[B, 3, H, W]</c> batch on <paramref name="device"/>.
    /// Every image must come out the same size (always true with an exact resize or a crop).
    /// </summary>
    public Tensor Apply(IReadOnlyList<RgbImage> images, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image", nameof(images));
        CheckSameOutputSize(images);

        using var scope = torch.NewDisposeScope();
        var target = device ?? torch.CPU;
        var geometries = new Tensor[images.Count];
        for (var i = 0; i < images.Count; i++)
            geometries[i] = Geometry(images[i] ?? throw new ArgumentException($"image {i} is null", nameof(images)), target);
        return Normalize(torch.stack(geometries)).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's <c>ToTensor()</c> alone: the image as float32 <c>[3, H, W]</c> in [0, 1].</summary>
    public static Tensor ToTensor(RgbImage image, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = torch.NewDisposeScope();
        return ToChannelsFirst(image, device ?? torch.CPU).to(ScalarType.Float32).div(255.0).MoveToOuterDisposeScope();
    }

    /// <summary>Resize and crop, as 8-bit <c>[3, H, W]</c>: what PIL would hand to <c>ToTensor</c>.</summary>
    internal Tensor Geometry(RgbImage image, Device device)
    {
        var size = new ImageSize(image.Width, image.Height);
        RgbImage? resizedImage = null;
        try
        {
            if (Options.Resize is { } resize && resize.GetOutputSize(size) is var resized && resized != size)
            {
                // PIL's own resample, in its own fixed-point arithmetic, on the bytes: its levels exactly.
                image = resizedImage = PilResample.Bilinear(image, resized);
                size = resized;
            }

            var pixels = ToChannelsFirst(image, device);
            if (Options.CenterCrop is { } crop && crop != size)
                pixels = CenterCrop(pixels, size, crop);
            return pixels;
        }
        finally
        {
            resizedImage?.Dispose();
        }
    }

    private static Tensor CenterCrop(Tensor pixels, ImageSize size, ImageSize crop)
    {
        if (crop.Width > size.Width || crop.Height > size.Height)
        {
            // torchvision pads a too-small image with zeros, the odd pixel going right/bottom, then crops.
            var padLeft = crop.Width > size.Width ? (crop.Width - size.Width) / 2 : 0;
            var padTop = crop.Height > size.Height ? (crop.Height - size.Height) / 2 : 0;
            var padded = new ImageSize(Math.Max(size.Width, crop.Width), Math.Max(size.Height, crop.Height));
            var canvas = torch.zeros([3, padded.Height, padded.Width], ScalarType.Byte, pixels.device);
            using (var region = canvas.narrow(1, padTop, size.Height).narrow(2, padLeft, size.Width))
                region.copy_(pixels);
            pixels = canvas;
            size = padded;
            if (crop == size) return pixels;
        }

        // Python's round() rounds halves to even, and so does Math.Round by default.
        var top = (long)Math.Round((size.Height - crop.Height) / 2.0);
        var left = (long)Math.Round((size.Width - crop.Width) / 2.0);
        return pixels.narrow(1, top, crop.Height).narrow(2, left, crop.Width);
    }

    internal Tensor Normalize(Tensor pixels)
    {
        // ToTensor then Normalize, as torchvision computes them: x / 255, then (x - mean) / std, all in float32.
        var channelShape = new long[] { 3, 1, 1 };
        var mean = TensorSpan.Create(Options.Mean.ToArray(), channelShape, pixels.device);
        var std = TensorSpan.Create(Options.Std.ToArray(), channelShape, pixels.device);
        return pixels.to(ScalarType.Float32).div(255.0).sub(mean).div(std);
    }

    private static Tensor ToChannelsFirst(RgbImage image, Device device) =>
        TensorSpan.Create(image.Pixels, [image.Height, image.Width, 3], device).permute(2, 0, 1);

    private void CheckSameOutputSize(IReadOnlyList<RgbImage> images)
    {
        if (Options.FixedOutputSize is not null) return;
        ImageSize? first = null;
        for (var i = 0; i < images.Count; i++)
        {
            if (images[i] is null) throw new ArgumentException($"image {i} is null", nameof(images));
            var size = Options.GetOutputSize(new ImageSize(images[i].Width, images[i].Height));
            first ??= size;
            if (size != first)
                throw new ArgumentException(
                    $"images of a batch must transform to one size, but image 0 ({images[0].Source ?? "unnamed"}) gives {first} and image {i} ({images[i].Source ?? "unnamed"}) gives {size}; add a CenterCrop or use an exact Resize",
                    nameof(images));
        }
    }
}

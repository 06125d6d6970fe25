using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Image operations used by the vision preprocessing (torchvision.transforms.functional counterparts).
public static partial class torch
{
    /// <summary>Image operations (torchvision-style).</summary>
    public static class vision
    {
        /// <summary>
        /// Bilinear resize of an <c>[N, C, H, W]</c> floating-point tensor to <paramref name="height"/> ×
        /// <paramref name="width"/> (<c>F.interpolate(mode="bilinear")</c>). With <paramref name="antialias"/>, a
        /// downscale widens the triangle filter to the scale factor, which is PIL's (and torchvision's) antialiased
        /// bilinear resampling.
        /// </summary>
        public static Tensor resize_bilinear(Tensor input, long height, long width, bool alignCorners = false, bool antialias = true)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
            return new Tensor(NativeMethods.ic_upsample_bilinear2d(input.Handle, height, width, alignCorners ? 1 : 0, antialias ? 1 : 0));
        }
    }
}

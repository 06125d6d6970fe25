namespace ImageCaptioning.Tests.Persistence;

/// <summary>The images the captioner fixtures were captioned on: raw RGB patterns, so no decoder is involved.</summary>
internal static class CaptionerFixture
{
    public sealed record Image(byte[] Pixels, int Width, int Height);

    public static IEnumerable<Image> Images()
    {
        for (var k = 0; k < 6; k++)
        {
            const int width = 40, height = 30;
            var pixels = new byte[width * height * 3];
            for (var i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i * (k + 3) * 37 + (i / (width * 3)) * k * 23 + k * 61) % 256);
            yield return new Image(pixels, width, height);
        }
    }
}

using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>Comparisons of feature vectors against a reference.</summary>
internal static class FeatureAssert
{
    /// <summary>
    /// Asserts max |actual − expected| ≤ <paramref name="relative"/> · max |expected|: relative to the scale of the
    /// features, since element-wise relative error is meaningless for the many values near zero after a ReLU.
    /// </summary>
    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double relative, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        double maxDiff = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(float.IsFinite(actual[i]), Is.True, $"{what}: value {i} is {actual[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        TestContext.Out.WriteLine($"{what}: max |diff| {maxDiff:G4}, max |reference| {scale:G4}, ratio {maxDiff / scale:G4}");
        Assert.That(scale, Is.GreaterThan(0), $"{what}: the reference is all zeros, which proves nothing");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(relative * scale), $"{what}: max |diff| {maxDiff:G4} exceeds {relative:G2} × max |reference| {scale:G4}");
    }

    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}

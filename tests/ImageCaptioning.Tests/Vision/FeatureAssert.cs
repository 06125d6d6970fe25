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
        var actualValues = new double[actual.Length];
        var expectedValues = new double[expected.Length];
        for (var i = 0; i < actual.Length; i++) actualValues[i] = actual[i];
        for (var i = 0; i < expected.Length; i++) expectedValues[i] = expected[i];
        Close(actualValues, expectedValues, relative, what);
    }

    /// <summary>As the float32 overload, for float64 values.</summary>
    public static void Close(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double relative, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        double maxDiff = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(double.IsFinite(actual[i]), Is.True, $"{what}: value {i} is {actual[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        TestContext.Out.WriteLine($"{what}: max |diff| {maxDiff:G4}, max |reference| {scale:G4}, ratio {maxDiff / scale:G4}");
        Assert.That(scale, Is.GreaterThan(0), $"{what}: the reference is all zeros, which proves nothing");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(relative * scale), $"{what}: max |diff| {maxDiff:G4} exceeds {relative:G2} × max |reference| {scale:G4}");
    }

    public static float[] ReadFloats(string path) => Read<float>(path);

    public static double[] ReadDoubles(string path) => Read<double>(path);

    private static T[] Read<T>(string path) where T : unmanaged
    {
        var bytes = File.ReadAllBytes(path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }
}

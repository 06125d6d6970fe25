using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Tests.Persistence;

/// <summary>Saved captioner folders without training one: a bundle with the settings Captioner.Save records beside it.</summary>
internal static class CaptionerFolders
{
    /// <summary>Writes <paramref name="bundle"/> (which the caller keeps) as a captioner whose extractor is rebuilt from <paramref name="network"/> and <paramref name="weights"/>.</summary>
    public static void SaveCaptioner(string folder, CaptionModelBundle bundle, FeatureNetwork? network, CnnWeights? weights) =>
        new Captioner(bundle, null, false, null, null, null, null, new CaptionerSettings(network, weights, CaptionCleaningOptions.Default, false), null)
            .Save(folder);

    /// <summary>The committed captioner folder that the format-1 writer (a bundle, then pipeline.json) wrote.</summary>
    public static string Format1Fixture => Path.Combine(NUnit.Framework.TestContext.CurrentContext.TestDirectory, "Fixtures", "captioner-format1");
}

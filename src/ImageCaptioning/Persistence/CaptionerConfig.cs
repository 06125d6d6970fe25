using ImageCaptioning.Text;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Persistence;

/// <summary>
/// The <c>captioner</c> section of a captioner folder's configuration: <see cref="CaptionerSettings"/> as JSON. Format-1
/// folders kept the same keys in a second file, pipeline.json.
/// </summary>
internal sealed class CaptionerConfig
{
    public string? Network { get; set; }
    public string? WeightsKind { get; set; }
    public string? WeightsPath { get; set; }
    public int WeightsSeed { get; set; }
    public string? StartMark { get; set; }
    public string? EndMark { get; set; }
    public bool ZeroImageFeatures { get; set; }

    public static CaptionerConfig From(CaptionerSettings settings) => new()
    {
        Network = settings.Network?.ToString(),
        WeightsKind = settings.Weights?.Kind.ToString(),
        WeightsPath = settings.Weights?.Path,
        WeightsSeed = settings.Weights?.Seed ?? 0,
        StartMark = settings.Cleaning.StartMark,
        EndMark = settings.Cleaning.EndMark,
        ZeroImageFeatures = settings.ZeroImageFeatures,
    };

    /// <summary>The settings, or an error naming <paramref name="path"/> and the key (<paramref name="keyPrefix"/> + its name) that is wrong.</summary>
    /// <exception cref="InvalidDataException">A value is none of its kind's.</exception>
    public CaptionerSettings ToSettings(string path, string keyPrefix)
    {
        FeatureNetwork? network = Network is null ? null : Parse<FeatureNetwork>(Network, keyPrefix + "network", path);
        CnnWeights? weights = WeightsKind is null ? null : Parse<CnnWeightsKind>(WeightsKind, keyPrefix + "weightsKind", path) switch
        {
            CnnWeightsKind.File => CnnWeights.FromFile(WeightsPath ?? throw new InvalidDataException($"{path}: weights path missing: '{keyPrefix}weightsKind' is File but '{keyPrefix}weightsPath' is not set")),
            CnnWeightsKind.Random => CnnWeights.Random(WeightsSeed),
            CnnWeightsKind.HubCacheOrRandom => CnnWeights.HubCacheOrRandom(WeightsSeed),
            _ => CnnWeights.HubCache,
        };
        var cleaning = CaptionCleaningOptions.Default with { StartMark = StartMark, EndMark = EndMark };
        return new CaptionerSettings(network, weights, cleaning, ZeroImageFeatures);
    }

    private static T Parse<T>(string value, string key, string path) where T : struct, Enum =>
        Enum.TryParse<T>(value, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new InvalidDataException($"{path}: '{key}' is '{value}', which is none of {string.Join(", ", Enum.GetNames<T>())}");
}

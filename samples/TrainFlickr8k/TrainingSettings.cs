using ImageCaptioning.Pipeline;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;

namespace TrainFlickr8k;

/// <summary>The parsed command line, paths already made absolute.</summary>
internal sealed record TrainingSettings(
    string Dataset,
    FeatureNetwork Network,
    string? WeightsFile,
    int? RandomWeightsSeed,
    string Output,
    string? FeatureCache,
    int Epochs,
    int BatchSize,
    double LearningRate,
    int Hidden,
    LossMode Mode,
    int MinCount,
    int ImageSize,
    int? Patience,
    int Beam,
    int ReportImages,
    int Seed,
    string? Device,
    long? MaxPixels);

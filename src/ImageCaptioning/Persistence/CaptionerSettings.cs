using ImageCaptioning.Text;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Persistence;

/// <summary>What a captioner needs besides its model bundle to be rebuilt from its folder.</summary>
/// <param name="Network">The CNN the feature extractor is rebuilt from, or null for a custom extractor.</param>
/// <param name="Weights">That CNN's weights, or null for a custom extractor.</param>
/// <param name="Cleaning">How the training captions were cleaned (their sequence marks).</param>
/// <param name="ZeroImageFeatures">Whether the model was trained, and so captions, with its image features zeroed (an ablation).</param>
internal sealed record CaptionerSettings(FeatureNetwork? Network, CnnWeights? Weights, CaptionCleaningOptions Cleaning, bool ZeroImageFeatures);

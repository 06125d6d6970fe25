using ImageCaptioning.Vision;

namespace ImageCaptioning.Persistence;

/// <summary>The image features a captioning model was trained on: how to compute them for a new image.</summary>
/// <param name="Name">The extractor, e.g. "vgg16-fc7" or "resnet50-avgpool".</param>
/// <param name="Dimension">Floats per feature row.</param>
/// <param name="Preprocessing">The image transform applied before the extractor, or null when not recorded.</param>
public sealed record FeatureExtractorDescription(string Name, int Dimension, ImageTransformOptions? Preprocessing = null);

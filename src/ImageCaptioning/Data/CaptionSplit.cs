using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>A corpus divided by image: no image is in two parts.</summary>
/// <param name="Train">Images to train on.</param>
/// <param name="Validation">Images to select models on (empty when the split has none).</param>
/// <param name="Test">Images to report on.</param>
public sealed record CaptionSplit(CaptionCorpus Train, CaptionCorpus Validation, CaptionCorpus Test);

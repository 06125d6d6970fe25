using ImageCaptioning.Data;
using ImageCaptioning.Text;

namespace ImageCaptioning.Pipeline;

/// <summary>What the dataset stage hands on: the vocabulary of the training captions and the datasets it encodes.</summary>
/// <param name="Vocabulary">Built from the training split only.</param>
/// <param name="Train">The training split's batches, shuffled by the run's seed.</param>
/// <param name="Validation">The validation split's batches in a fixed order, or null when the split has none.</param>
internal sealed record PipelineDatasets(CaptionVocabulary Vocabulary, CaptionDataset Train, CaptionDataset? Validation);

using ImageCaptioning.Data;
using ImageCaptioning.Text;

namespace ImageCaptioning.Pipeline;

/// <summary>What the caption stage hands on: the cleaned captions, their split by image, and how they were cleaned.</summary>
/// <param name="Corpus">Every captioned image, cleaned and marked.</param>
/// <param name="Split">The train, validation and test images.</param>
/// <param name="Cleaning">The cleaning (and marks) the captioner must apply to references later.</param>
/// <param name="RandomSplit">True when the split was drawn from the seed, false when the source defines it.</param>
internal sealed record PipelineCaptions(CaptionCorpus Corpus, CaptionSplit Split, CaptionCleaningOptions Cleaning, bool RandomSplit);

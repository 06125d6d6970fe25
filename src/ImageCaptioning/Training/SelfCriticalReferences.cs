using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;

namespace ImageCaptioning.Training;

/// <summary>
/// What self-critical training rewards captions against: the training images' references, read from the training
/// dataset's captions as the model's token ids (<see cref="ValidationCaptions.Collect"/>, without the features), the
/// CIDEr-D reward over them, and the marks a sampled caption starts, ends and is padded with.
/// </summary>
internal sealed class SelfCriticalReferences
{
    private SelfCriticalReferences(ValidationCaptions captions, int startId, int endId, int padId)
    {
        Captions = captions;
        Reward = captions.Reward();
        (StartId, EndId, PadId) = (startId, endId, padId);
    }

    /// <summary>The training images and their references; <see cref="ValidationCaptions.IndexOf"/> gives an image's index in <see cref="Reward"/>.</summary>
    public ValidationCaptions Captions { get; }

    public CiderDReward Reward { get; }

    public int StartId { get; }

    public int EndId { get; }

    public int PadId { get; }

    /// <summary>Reads every batch of <paramref name="train"/> once.</summary>
    public static SelfCriticalReferences Collect(ICaptionDataset train)
    {
        var vocabulary = train.Vocabulary;
        return new SelfCriticalReferences(ValidationCaptions.Collect(train, keepFeatures: false), vocabulary.StartId, vocabulary.EndId, vocabulary.PadId);
    }
}

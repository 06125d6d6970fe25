using ImageCaptioning.Training;

namespace ImageCaptioning.Pipeline;

/// <summary>Training settings of <see cref="CaptionPipelineBuilder.Train"/>; validated when training starts.</summary>
public sealed record PipelineTrainingOptions
{
    /// <summary>Full passes over the training split.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per batch (captions in full-sequence mode, prefixes in prefix mode).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Full-sequence teacher forcing (default) or the recipe's prefix mode.</summary>
    public LossMode Mode { get; init; } = LossMode.FullSequence;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Global gradient-norm clipping; null turns it off.</summary>
    public double? GradientClipNorm { get; init; } = 5.0;

    /// <summary>Stop after this many epochs without a better validation loss; null trains every epoch. Needs a validation split.</summary>
    public int? Patience { get; init; }

    /// <summary>Decode the validation split each epoch and report BLEU-4. Needs a validation split.</summary>
    public bool ValidationBleu { get; init; }

    /// <summary>Where last/best checkpoints go (resumed from when present); null keeps none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Longest caption in tokens (start and end marks included); longer ones are truncated and counted.</summary>
    public int? MaxCaptionLength { get; init; }

    /// <summary>
    /// Trains on all-zero image features: the control experiment that shows how much of the score comes from the
    /// image rather than the language prior.
    /// </summary>
    public bool ZeroImageFeatures { get; init; }

    internal PipelineTrainingOptions Validate(bool hasValidationSplit)
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "must be at least 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be positive");
        if (GradientClipNorm is <= 0) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), GradientClipNorm, "must be positive (or null for no clipping)");
        if (MaxCaptionLength is < 3) throw new ArgumentOutOfRangeException(nameof(MaxCaptionLength), MaxCaptionLength, "must leave room for a word between the marks");
        if (!hasValidationSplit && (Patience is not null || ValidationBleu))
            throw new InvalidOperationException("early stopping and validation BLEU need a validation split: call WithSplit(trainFraction, validationFraction) with a validationFraction above 0, or use a caption source with a validation split");
        return this;
    }
}

/// <summary>A long step of the pipeline and how far it is.</summary>
public enum PipelineStage
{
    /// <summary>Reading and cleaning captions.</summary>
    ReadingCaptions,
    /// <summary>Running the CNN over images (skipping those already in the feature cache).</summary>
    ExtractingFeatures,
    /// <summary>Training the captioning model.</summary>
    Training,
    /// <summary>Captioning a split and scoring it.</summary>
    Evaluating,
}

/// <summary>Progress of a pipeline step.</summary>
/// <param name="Stage">The step.</param>
/// <param name="Done">Units done (images, training steps).</param>
/// <param name="Total">Units in the step.</param>
/// <param name="Detail">A human-readable line (rate, loss, ETA).</param>
public sealed record PipelineProgress(PipelineStage Stage, long Done, long Total, string Detail);

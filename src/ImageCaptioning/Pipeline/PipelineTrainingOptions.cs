using ImageCaptioning.Training;

namespace ImageCaptioning.Pipeline;

/// <summary>Training settings of <see cref="CaptionPipelineBuilder.Train"/>; validated when training starts.</summary>
public sealed record PipelineTrainingOptions
{
    /// <summary>Full passes over the training split.</summary>
    public int Epochs { get; init => field = OptionGuard.AtLeast(value, 1); } = 10;

    /// <summary>Samples per batch (captions in full-sequence mode, prefixes in prefix mode).</summary>
    public int BatchSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 64;

    /// <summary>Full-sequence teacher forcing (default) or the recipe's prefix mode.</summary>
    public LossMode Mode { get; init => field = OptionGuard.Defined(value); } = LossMode.FullSequence;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init => field = OptionGuard.Positive(value); } = 1e-3;

    /// <summary>Adam's learning rate for a trainable encoder (<c>WithEncoder</c>); null uses <see cref="LearningRate"/>.</summary>
    public double? EncoderLearningRate { get; init => field = value is { } rate ? OptionGuard.Positive(rate) : null; }

    /// <summary>Multiplies the learning rates after each cross-entropy epoch (<see cref="Training.CaptionTrainerOptions.LearningRateDecay"/>). Default 1.</summary>
    public double LearningRateDecay { get; init => field = OptionGuard.Require(value, value is > 0 and <= 1, "must be within (0, 1]"); } = 1;

    /// <summary>Epochs between two decays (<see cref="Training.CaptionTrainerOptions.LearningRateDecayInterval"/>: StepLR's step size). Default 1.</summary>
    public int LearningRateDecayInterval { get; init => field = OptionGuard.Require(value, value >= 1, "must be at least 1 epoch"); } = 1;

    /// <summary>Global gradient-norm clipping; null turns it off.</summary>
    public double? GradientClipNorm { get; init => field = OptionGuard.Require(value, value is null or > 0, "must be positive (or null for no clipping)"); } = 5.0;

    /// <summary>Stop after this many epochs without a better validation loss; null trains every epoch. Needs a validation split.</summary>
    public int? Patience { get; init => field = OptionGuard.Require(value, value is null or >= 1, "must be at least 1 epoch, or null to turn early stopping off"); }

    /// <summary>Decode the validation split each epoch and report BLEU-4. Needs a validation split.</summary>
    public bool ValidationBleu { get; init; }

    /// <summary>Where last/best checkpoints go (resumed from when present); null keeps none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Longest caption in tokens (start and end marks included); longer ones are truncated and counted.</summary>
    public int? MaxCaptionLength { get; init => field = OptionGuard.Require(value, value is null or >= 3, "must leave room for a word between the marks"); }

    /// <summary>
    /// Trains on all-zero image features: the control experiment that shows how much of the score comes from the
    /// image rather than the language prior.
    /// </summary>
    public bool ZeroImageFeatures { get; init; }

    /// <summary>
    /// Self-critical sequence training after the <see cref="Epochs"/> cross-entropy epochs
    /// (<see cref="Training.CaptionTrainerOptions.SelfCritical"/>): captions sampled from the model, rewarded with their
    /// CIDEr-D against the training captions. Null (the default) trains with cross-entropy only; needs
    /// <see cref="LossMode.FullSequence"/>.
    /// </summary>
    public SelfCriticalOptions? SelfCritical { get; init; }

    /// <summary>Training batches built ahead on a worker thread (<see cref="Training.CaptionTrainerOptions.PrefetchDepth"/>); 0 builds each on the training thread. Results do not depend on it.</summary>
    public int PrefetchDepth { get; init => field = OptionGuard.Require(value, value >= 0, "must be 0 (no prefetching) or more"); } = 2;

    // Each setting is checked as it is set; what needs the caption split is checked once the split is known.
    internal PipelineTrainingOptions Validate(bool hasValidationSplit)
    {
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

namespace ImageCaptioning.Training;

/// <summary>Why <see cref="CaptionTrainer.Train"/> returned.</summary>
public enum TrainingStopReason
{
    /// <summary>
    /// All <see cref="CaptionTrainerOptions.Epochs"/> epochs ran, then the <see cref="SelfCriticalOptions.Epochs"/>
    /// when self-critical training is on.
    /// </summary>
    Completed,

    /// <summary>
    /// The validation loss did not improve for <see cref="CaptionTrainerOptions.Patience"/> epochs. With self-critical
    /// training on, an exhausted patience ends the cross-entropy epochs instead, and training goes on with the
    /// self-critical ones.
    /// </summary>
    EarlyStopped,

    /// <summary>The cancellation token fired; a resumable checkpoint was written when checkpoints are on.</summary>
    Cancelled,
}

/// <summary>Which loss an epoch trained with.</summary>
public enum TrainingPhase
{
    /// <summary>Teacher-forced cross-entropy (<see cref="CaptionTrainerOptions.Mode"/>).</summary>
    CrossEntropy,

    /// <summary>Self-critical sequence training (<see cref="CaptionTrainerOptions.SelfCritical"/>).</summary>
    SelfCritical,
}

/// <summary>What one finished epoch measured.</summary>
/// <param name="Epoch">The epoch number, from 1, counted on from the cross-entropy epochs into the self-critical ones.</param>
/// <param name="TrainLoss">
/// Mean loss over the epoch's batches, as trained (dropout on): cross-entropy per target token, or in a self-critical
/// epoch the REINFORCE loss per sampled step (<see cref="SelfCriticalLoss"/>).
/// </param>
/// <param name="ValidationLoss">Mean cross-entropy per target token on the validation set (dropout off); null without one.</param>
/// <param name="ValidationBleu4">Corpus BLEU-4 of greedy captions of the validation images; null unless requested.</param>
/// <param name="TokensPerSecond">
/// Target tokens trained on per second of training steps; in a self-critical epoch, sampled steps (through each
/// caption's end token) per second.
/// </param>
/// <param name="Duration">Time spent in the epoch's training steps.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double? ValidationLoss, double? ValidationBleu4, double TokensPerSecond, TimeSpan Duration)
{
    /// <summary>The loss the epoch trained with.</summary>
    public TrainingPhase Phase { get; init; }

    /// <summary>
    /// Corpus CIDEr-D (coco-caption's, document frequencies from the validation references) of greedy captions of the
    /// validation images; recorded in every epoch of a run with self-critical training and a validation set, and in the
    /// epochs of a <see cref="Pretrained.PretrainedFineTuner"/> that scores its validation captions; null otherwise.
    /// </summary>
    public double? ValidationCiderD { get; init; }

    /// <summary>In a self-critical epoch, the mean CIDEr-D reward of the sampled captions against their training references; else null.</summary>
    public double? MeanReward { get; init; }

    /// <summary>In a self-critical epoch, the mean baseline the rewards were compared with; else null.</summary>
    public double? MeanBaseline { get; init; }

    /// <summary>In a self-critical epoch, the mean number of tokens of a sampled caption, its end token not counted; else null.</summary>
    public double? MeanSampleLength { get; init; }

    /// <summary>In a self-critical epoch, sampled captions per second of training steps; else null.</summary>
    public double? SamplesPerSecond { get; init; }
}

/// <summary>The outcome of <see cref="CaptionTrainer.Train"/>. Immutable.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(IReadOnlyList<EpochMetrics> history, int? bestEpoch, TrainingStopReason stopReason, long globalStep, int stepInEpoch)
    {
        History = history;
        BestEpoch = bestEpoch;
        StopReason = stopReason;
        GlobalStep = globalStep;
        StepInEpoch = stepInEpoch;
    }

    /// <summary>Every finished epoch, from the first (resumed epochs included).</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// The best epoch; null when no epoch finished. Among cross-entropy epochs, the one with the lowest validation loss
    /// (the lowest training loss without a validation set); a self-critical epoch replaces it when its validation
    /// CIDEr-D beats every earlier epoch's (without a validation set, when its mean reward beats every earlier
    /// self-critical epoch's).
    /// </summary>
    public int? BestEpoch { get; }

    /// <summary>Why training stopped.</summary>
    public TrainingStopReason StopReason { get; }

    /// <summary>Optimiser steps taken since training started.</summary>
    public long GlobalStep { get; }

    /// <summary>Steps already taken in the unfinished epoch (non-zero only after a cancellation mid-epoch).</summary>
    public int StepInEpoch { get; }

    /// <summary>Number of finished epochs.</summary>
    public int EpochsCompleted => History.Count;

    /// <summary>The metrics of <see cref="BestEpoch"/>, or null.</summary>
    public EpochMetrics? Best => BestEpoch is { } epoch ? History[epoch - 1] : null;
}

/// <summary>Reported after every training step.</summary>
/// <param name="Epoch">The epoch in progress, from 1.</param>
/// <param name="Epochs">Epochs to train in all, the self-critical ones included.</param>
/// <param name="Step">Steps finished in this epoch, from 1.</param>
/// <param name="StepsPerEpoch">Steps (batches) per epoch.</param>
/// <param name="GlobalStep">Steps finished since training started.</param>
/// <param name="Loss">The step's loss: mean cross-entropy per target token, or the self-critical loss (<see cref="EpochMetrics.TrainLoss"/>).</param>
/// <param name="TokensPerSecond">Target tokens (sampled steps in a self-critical epoch) per second over this epoch's steps so far.</param>
/// <param name="EstimatedTimeRemaining">Time the remaining steps should take at this session's pace (validation not included).</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, long GlobalStep, double Loss,
    double TokensPerSecond, TimeSpan EstimatedTimeRemaining)
{
    /// <summary>The loss of the epoch in progress.</summary>
    public TrainingPhase Phase { get; init; }
}

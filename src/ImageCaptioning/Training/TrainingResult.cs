namespace ImageCaptioning.Training;

/// <summary>Why <see cref="CaptionTrainer.Train"/> returned.</summary>
public enum TrainingStopReason
{
    /// <summary>All <see cref="CaptionTrainerOptions.Epochs"/> epochs ran.</summary>
    Completed,

    /// <summary>The validation loss did not improve for <see cref="CaptionTrainerOptions.Patience"/> epochs.</summary>
    EarlyStopped,

    /// <summary>The cancellation token fired; a resumable checkpoint was written when checkpoints are on.</summary>
    Cancelled,
}

/// <summary>What one finished epoch measured.</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="TrainLoss">Mean cross-entropy per target token over the epoch's batches (as trained, dropout on).</param>
/// <param name="ValidationLoss">Mean cross-entropy per target token on the validation set (dropout off); null without one.</param>
/// <param name="ValidationBleu4">Corpus BLEU-4 of greedy captions of the validation images; null unless requested.</param>
/// <param name="TokensPerSecond">Target tokens trained on per second of training steps.</param>
/// <param name="Duration">Time spent in the epoch's training steps.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double? ValidationLoss, double? ValidationBleu4, double TokensPerSecond, TimeSpan Duration);

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
    /// The epoch with the lowest validation loss (the lowest training loss without a validation set); null when no
    /// epoch finished.
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
/// <param name="Epochs">Epochs to train in all.</param>
/// <param name="Step">Steps finished in this epoch, from 1.</param>
/// <param name="StepsPerEpoch">Steps (batches) per epoch.</param>
/// <param name="GlobalStep">Steps finished since training started.</param>
/// <param name="Loss">The step's loss (mean cross-entropy per target token).</param>
/// <param name="TokensPerSecond">Target tokens per second over this epoch's steps so far.</param>
/// <param name="EstimatedTimeRemaining">Time the remaining steps should take at this session's pace (validation not included).</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, long GlobalStep, double Loss,
    double TokensPerSecond, TimeSpan EstimatedTimeRemaining);

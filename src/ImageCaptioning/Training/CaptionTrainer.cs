using System.Diagnostics;
using ImageCaptioning.Data;
using ImageCaptioning.Modeling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Training;

/// <summary>
/// Trains a <see cref="CaptionModel"/> with Adam on a caption dataset: an epoch is a full pass over the dataset's
/// <see cref="ICaptionDataset.Count"/> batches, followed by the validation loss (and optionally BLEU-4 of greedy
/// captions), early stopping, and the <c>last</c>/<c>best</c> checkpoints. A checkpoint holds the model, the
/// optimiser, the position (epoch and step), the history and libtorch's generator state, so a resumed run takes
/// exactly the steps the uninterrupted run would have taken. The dataset's order is a function of its seed and epoch
/// number, and the trainer's state (the checkpoint) is the one owner of both: it reads batch k of epoch e with
/// <see cref="ICaptionDataset.BatchOf"/>, so the dataset's own <see cref="ICaptionDataset.Epoch"/> is read once, when
/// training starts from scratch, and never moved. Batches are built ahead on a worker thread
/// (<see cref="CaptionTrainerOptions.PrefetchDepth"/>); building touches no random generator, so prefetching changes
/// no batch and no result. Resumed runs are bitwise reproducible on the CPU; on CUDA, dropout draws from the CUDA
/// generator, whose state checkpoints do not record.
/// </summary>
public sealed partial class CaptionTrainer : IDisposable
{
    private readonly Adam optimizer;
    private readonly ILogger logger;
    private readonly IProgress<TrainingProgress>? progress;
    private readonly Device device;
    private TrainingCheckpoint? state;
    private string? stateSource;

    /// <summary>
    /// Creates a trainer for <paramref name="model"/>, moving it to <see cref="CaptionTrainerOptions.Device"/>.
    /// The options are validated here.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid; the exception names it.</exception>
    public CaptionTrainer(CaptionModel model, CaptionTrainerOptions options, ILogger? logger = null, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        if (options.Mode == LossMode.Prefix && model is not LstmCaptionModel)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.Mode)} {LossMode.Prefix} trains the Show-and-Tell models ({nameof(LstmCaptionModel)}); a {model.GetType().Name} trains with {LossMode.FullSequence}", nameof(options));
        Model = model;
        this.logger = logger ?? NullLogger.Instance;
        this.progress = progress;
        device = options.Device ?? torch.CPU;
        model.to(device);
        optimizer = CreateOptimizer(model, options);
    }

    /// <summary>The validated options.</summary>
    public CaptionTrainerOptions Options { get; }

    /// <summary>The model being trained (the caller keeps ownership).</summary>
    public CaptionModel Model { get; }

    /// <summary>Test hook: called after each checkpoint file is written.</summary>
    internal Action<string>? AfterCheckpointFileWritten { get; init; }

    /// <summary>
    /// Trains until <see cref="CaptionTrainerOptions.Epochs"/> epochs are finished, early stopping ends training, or
    /// <paramref name="cancellationToken"/> fires (then a resumable checkpoint is written at the current step, and
    /// the result says <see cref="TrainingStopReason.Cancelled"/>). The first call resumes from
    /// <see cref="CaptionTrainerOptions.ResumeFrom"/> or from a <c>last</c> checkpoint in
    /// <see cref="CaptionTrainerOptions.CheckpointDirectory"/> when there is one; a later call continues where the
    /// previous one stopped.
    /// </summary>
    /// <param name="train">Training batches; its mode must suit <see cref="CaptionTrainerOptions.Mode"/>.</param>
    /// <param name="validation">Validation batches (read in its current order, never advanced), or null.</param>
    /// <param name="cancellationToken">Stops training after the current step.</param>
    /// <exception cref="ArgumentException">The datasets do not fit the model or the options.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is unreadable or does not fit.</exception>
    /// <exception cref="CheckpointMismatchException">The checkpoint was trained with other settings or another dataset.</exception>
    public TrainingResult Train(ICaptionDataset train, ICaptionDataset? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckDatasets(train, validation);
        var store = Options.CheckpointDirectory is { } directory ? new CheckpointStore(directory) { AfterFileWritten = AfterCheckpointFileWritten } : null;
        var current = state ??= StartOrResume(train, store);
        CheckSameBatches(current, train);

        var bleuSet = Options.ValidationBleu ? ValidationCaptions.Collect(validation!) : null;
        var pace = new Pace();
        Model.train();
        while (current.Epoch < Options.Epochs)
        {
            if (PatienceExhausted(current))
                return Finish(TrainingStopReason.EarlyStopped);
            using (var batches = new TrainingBatches(train, current.DatasetEpoch, current.StepInEpoch, Options.PrefetchDepth))
            {
                for (var step = current.StepInEpoch; step < train.Count; step++)
                {
                    if (cancellationToken.IsCancellationRequested) return Cancel(store);
                    var (loss, tokens, seconds) = Step(batches);
                    current.EpochLossSum += loss * tokens;
                    current.EpochTokens += tokens;
                    current.EpochSeconds += seconds;
                    current.StepInEpoch = step + 1;
                    current.GlobalStep++;
                    pace.Add(seconds);
                    Report(current, train.Count, loss, pace);
                }
            }
            if (cancellationToken.IsCancellationRequested) return Cancel(store);
            EndEpoch(current, validation, bleuSet, store);
        }
        return Finish(TrainingStopReason.Completed);
    }

    // A trainable encoder's parameters form their own group at EncoderLearningRate; its frozen ones are left out.
    private static Adam CreateOptimizer(CaptionModel model, CaptionTrainerOptions options)
    {
        if (model.Encoder is not { } encoder)
            return torch.optim.Adam(model.parameters(), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
        var decoder = model.named_parameters().Where(p => !p.name.StartsWith("encoder.", StringComparison.Ordinal)).Select(p => p.parameter).ToArray();
        var groups = new List<Adam.ParamGroup> { new(decoder, lr: options.LearningRate) };
        var trainable = encoder.TrainableParameters().ToArray();
        if (trainable.Length > 0) groups.Add(new Adam.ParamGroup(trainable, lr: options.EncoderLearningRate ?? options.LearningRate));
        return torch.optim.Adam(groups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>Frees the optimiser state (the model stays the caller's).</summary>
    public void Dispose() => optimizer.Dispose();

    private (double Loss, long Tokens, double Seconds) Step(TrainingBatches batches)
    {
        var watch = Stopwatch.StartNew();
        using var batch = batches.Next();
        var tokens = CountTargets(batch.Targets, Model.PadId);
        if (tokens == 0) return (0, 0, watch.Elapsed.TotalSeconds);
        double loss;
        using (var scope = torch.NewDisposeScope())
        {
            using var tensors = batch.ToTensors(device);
            optimizer.zero_grad();
            var lossTensor = Loss(tensors);
            lossTensor.backward();
            if (Options.GradientClipNorm is { } clip) torch.nn.utils.clip_grad_norm_(Model.parameters(), clip);
            optimizer.step();
            loss = lossTensor.item<float>();
        }
        return (loss, tokens, watch.Elapsed.TotalSeconds);
    }

    private Tensor Loss(BatchTensors batch) => Options.Mode == LossMode.FullSequence
        ? Model.Loss(batch.Features, batch.Tokens, batch.Targets, batch.FeatureIndex)
        : CaptionLoss.Prefix((LstmCaptionModel)Model, batch.Features, batch.Tokens, batch.Targets, batch.FeatureIndex);

    private void EndEpoch(TrainingCheckpoint current, ICaptionDataset? validation, ValidationCaptions? bleuSet, CheckpointStore? store)
    {
        var trainLoss = current.EpochTokens > 0 ? current.EpochLossSum / current.EpochTokens : double.NaN;
        var validationLoss = validation is null ? (double?)null : ValidationLoss(validation);
        var bleu = bleuSet?.Bleu4(Model, validation!.Vocabulary, device);
        var tokensPerSecond = current.EpochSeconds > 0 ? current.EpochTokens / current.EpochSeconds : 0;
        var metrics = new EpochMetrics(current.Epoch + 1, trainLoss, validationLoss, bleu, tokensPerSecond, TimeSpan.FromSeconds(current.EpochSeconds));
        current.History.Add(metrics);

        // NaN never improves: a diverged epoch must not become the best one.
        var monitored = validationLoss ?? trainLoss;
        var improved = !double.IsNaN(monitored) && (current.BestLoss is not { } best || monitored < best);
        if (improved)
        {
            current.BestEpoch = metrics.Epoch;
            current.BestLoss = monitored;
            current.EpochsWithoutImprovement = 0;
        }
        else
        {
            current.EpochsWithoutImprovement++;
        }

        current.DatasetEpoch++;
        current.Epoch++;
        current.StepInEpoch = 0;
        current.EpochLossSum = 0;
        current.EpochTokens = 0;
        current.EpochSeconds = 0;

        logger.LogInformation("Epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4}, validation loss {ValidationLoss}, validation BLEU-4 {Bleu}, {TokensPerSecond:F0} tokens/s{Best}",
            metrics.Epoch, Options.Epochs, trainLoss, validationLoss?.ToString("F4") ?? "-", bleu?.ToString("F4") ?? "-", tokensPerSecond, improved ? " (best)" : "");
        if (store is null) return;
        if (improved) SaveCheckpoint(store, CheckpointStore.Best, current);
        SaveCheckpoint(store, CheckpointStore.Last, current);
    }

    private double ValidationLoss(ICaptionDataset validation)
    {
        double sum = 0;
        long tokens = 0;
        Model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (var index = 0; index < validation.Count; index++)
            {
                using var batch = validation[index];
                var count = CountTargets(batch.Targets, Model.PadId);
                if (count == 0) continue;
                using var scope = torch.NewDisposeScope();
                using var tensors = batch.ToTensors(device);
                sum += Loss(tensors).item<float>() * (double)count;
                tokens += count;
            }
        }
        finally
        {
            Model.train();
        }
        return tokens > 0 ? sum / tokens : double.NaN;
    }

    private TrainingResult Cancel(CheckpointStore? store)
    {
        var current = state!;
        logger.LogInformation("Training cancelled at epoch {Epoch}, step {Step}", current.Epoch + 1, current.StepInEpoch);
        if (store is not null) SaveCheckpoint(store, CheckpointStore.Last, current);
        return Finish(TrainingStopReason.Cancelled);
    }

    private TrainingResult Finish(TrainingStopReason reason)
    {
        var current = state!;
        if (reason == TrainingStopReason.EarlyStopped)
            logger.LogInformation("Early stopping after epoch {Epoch}: no better validation loss for {Patience} epochs (best: epoch {BestEpoch})",
                current.Epoch, current.EpochsWithoutImprovement, current.BestEpoch);
        return new TrainingResult([.. current.History], current.BestEpoch, reason, current.GlobalStep, current.StepInEpoch);
    }

    private bool PatienceExhausted(TrainingCheckpoint current) =>
        Options.Patience is { } patience && current.EpochsWithoutImprovement >= patience;

    private void Report(TrainingCheckpoint current, int stepsPerEpoch, double loss, Pace pace)
    {
        if (progress is null) return;
        var remaining = (long)(stepsPerEpoch - current.StepInEpoch) + (long)(Options.Epochs - current.Epoch - 1) * stepsPerEpoch;
        var tokensPerSecond = current.EpochSeconds > 0 ? current.EpochTokens / current.EpochSeconds : 0;
        progress.Report(new TrainingProgress(current.Epoch + 1, Options.Epochs, current.StepInEpoch, stepsPerEpoch, current.GlobalStep,
            loss, tokensPerSecond, pace.Estimate(remaining)));
    }

    private void CheckDatasets(ICaptionDataset train, ICaptionDataset? validation)
    {
        CheckDataset(train, nameof(train));
        if (validation is not null) CheckDataset(validation, nameof(validation));
        else if (Options.Patience is not null)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.Patience)} (early stopping) needs a validation dataset", nameof(validation));
        else if (Options.ValidationBleu)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.ValidationBleu)} needs a validation dataset", nameof(validation));
        if (train.Count == 0) throw new ArgumentException("the training dataset has no batches", nameof(train));
    }

    private void CheckDataset(ICaptionDataset dataset, string name)
    {
        var expected = Options.Mode == LossMode.FullSequence ? CaptionDatasetMode.FullSequence : CaptionDatasetMode.PrefixExpansion;
        if (dataset.Mode != expected)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.Mode)} {Options.Mode} needs a {expected} dataset, but the {name} dataset is {dataset.Mode}", name);
        var shape = Model;
        if (dataset.FeatureDimension != shape.InputDimension)
            throw new ArgumentException($"the {name} dataset has {dataset.FeatureDimension}-float features but the model reads {shape.InputDimension}", name);
        if (dataset.Vocabulary.VocabularySize > shape.VocabularySize)
            throw new ArgumentException($"the {name} dataset's vocabulary has {dataset.Vocabulary.VocabularySize} ids but the model only {shape.VocabularySize}", name);
        if (dataset.Vocabulary.PadId != shape.PadId)
            throw new ArgumentException($"the {name} dataset pads with id {dataset.Vocabulary.PadId} but the model's pad id is {shape.PadId}", name);
    }

    private static long CountTargets(ReadOnlySpan<long> targets, long pad)
    {
        long count = 0;
        foreach (var target in targets)
            if (target != pad) count++;
        return count;
    }

    /// <summary>Seconds per step in this session, for the time estimate.</summary>
    private sealed class Pace
    {
        private double seconds;
        private long steps;

        public void Add(double stepSeconds)
        {
            seconds += stepSeconds;
            steps++;
        }

        public TimeSpan Estimate(long remainingSteps) =>
            steps == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds / steps * remainingSteps);
    }
}

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
/// no batch and no result. Resumed runs are bitwise reproducible on the CPU; on CUDA, dropout (and self-critical
/// sampling) draws from the CUDA generator, whose state checkpoints do not record.
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="CaptionTrainerOptions.SelfCritical"/> set, the cross-entropy epochs are followed by self-critical
/// sequence training (Rennie et al. 2017, as self-critical.pytorch runs it), the epoch count going on: each step takes
/// the distinct images of a training batch, samples <see cref="SelfCriticalOptions.SamplesPerImage"/> captions of each
/// in train mode with gradients, rewards each with its CIDEr-D against the image's training references
/// (<see cref="Evaluation.CiderDReward"/>, document frequencies over every training image), and weights its
/// log-probability by the reward less the baseline (<see cref="SelfCriticalLoss"/>). An epoch reads the same batches as a
/// cross-entropy epoch, so an image is sampled once per caption it has.
/// </para>
/// <para>
/// The self-critical epochs keep the Adam optimiser and its moments and only change its learning rates: every group
/// moves to <see cref="SelfCriticalOptions.LearningRate"/>, a trainable encoder's group keeping its ratio
/// <see cref="CaptionTrainerOptions.EncoderLearningRate"/> / <see cref="CaptionTrainerOptions.LearningRate"/>.
/// </para>
/// <para>
/// <see cref="CaptionTrainerOptions.Patience"/> watches the cross-entropy epochs only: an exhausted patience ends them
/// and the self-critical ones begin from the last weights; the self-critical epochs all run. The validation loss is
/// still reported in them, but the best epoch (and the <c>best</c> checkpoint) is then judged by the validation
/// CIDEr-D of greedy captions, higher being better, which every epoch of such a run records: a self-critical epoch
/// becomes the best when it beats the CIDEr-D of every earlier best epoch, the cross-entropy one included. Without a
/// validation set it is judged by the mean training reward, against the earlier self-critical epochs.
/// </para>
/// <para>
/// The self-critical settings bind a checkpoint only once its self-critical epochs have begun: a checkpoint of
/// cross-entropy epochs resumes with self-critical training turned on, off or changed, and the run that was only
/// cross-entropy goes on into self-critical epochs from where it stopped.
/// </para>
/// </remarks>
public sealed partial class CaptionTrainer : IDisposable
{
    private readonly Adam optimizer;
    private readonly double[] crossEntropyRates;
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
        // Checked here rather than at the first sampled step, which may come after hours of cross-entropy epochs.
        if (options.SelfCritical is { } selfCritical && model is TransformerCaptionModel { Options: { Positions: PositionEncoding.Learned } transformer }
            && selfCritical.MaxLength > transformer.MaxPositions)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.SelfCritical)}.{nameof(SelfCriticalOptions.MaxLength)} {selfCritical.MaxLength} exceeds the model's {transformer.MaxPositions} learned positions", nameof(options));
        Model = model;
        this.logger = logger ?? NullLogger.Instance;
        this.progress = progress;
        device = options.Device ?? torch.CPU;
        model.to(device);
        (optimizer, crossEntropyRates) = CreateOptimizer(model, options);
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

        var captionSet = Options.ValidationBleu || (Options.SelfCritical is not null && validation is not null) ? ValidationCaptions.Collect(validation!) : null;
        SelfCriticalReferences? references = null;
        var pace = new Pace();
        Model.train();
        while (NextPhase(current) is { } phase)
        {
            if (phase == TrainingPhase.SelfCritical)
            {
                if (current.SelfCriticalStartEpoch is null) BeginSelfCritical(current);
                references ??= SelfCriticalReferences.Collect(train);
            }
            ApplyLearningRates(phase, current.Epoch);
            using (var batches = new TrainingBatches(train, current.DatasetEpoch, current.StepInEpoch, Options.PrefetchDepth))
            {
                for (var step = current.StepInEpoch; step < train.Count; step++)
                {
                    if (cancellationToken.IsCancellationRequested) return Cancel(store);
                    var outcome = phase == TrainingPhase.CrossEntropy ? Step(batches) : SelfCriticalStep(batches, references!);
                    current.EpochLossSum += outcome.Loss * outcome.Tokens;
                    current.EpochTokens += outcome.Tokens;
                    current.EpochSeconds += outcome.Seconds;
                    current.EpochRewardSum += outcome.RewardSum;
                    current.EpochBaselineSum += outcome.BaselineSum;
                    current.EpochSampleLengthSum += outcome.SampleLengthSum;
                    current.EpochSamples += outcome.Samples;
                    current.StepInEpoch = step + 1;
                    current.GlobalStep++;
                    pace.Add(outcome.Seconds);
                    Report(current, phase, train.Count, outcome.Loss, pace);
                }
            }
            if (cancellationToken.IsCancellationRequested) return Cancel(store);
            EndEpoch(current, phase, validation, captionSet, store);
        }
        return Finish(Options.SelfCritical is null && current.Epoch < Options.Epochs ? TrainingStopReason.EarlyStopped : TrainingStopReason.Completed);
    }

    // The phase of the next epoch, or null when training is over. The self-critical epochs count from the epoch at
    // which they began, which the checkpoint fixes, so that changing the cross-entropy epochs later moves nothing.
    private TrainingPhase? NextPhase(TrainingCheckpoint current)
    {
        if (current.SelfCriticalStartEpoch is { } start)
            return current.Epoch < start + Options.SelfCritical!.Epochs ? TrainingPhase.SelfCritical : null;
        if (current.Epoch < Options.Epochs && !PatienceExhausted(current)) return TrainingPhase.CrossEntropy;
        return Options.SelfCritical is null ? null : TrainingPhase.SelfCritical;
    }

    // Epochs to train in all, as far as they are known now.
    private int TotalEpochs(TrainingCheckpoint current) => Options.SelfCritical is not { } selfCritical
        ? Options.Epochs
        : (current.SelfCriticalStartEpoch ?? Math.Max(current.Epoch, Options.Epochs)) + selfCritical.Epochs;

    // Adam's moments carry over from the cross-entropy epochs (as a self-critical.pytorch run continued with
    // --start_from does); only the step size changes, for every group in proportion. Set before every epoch, because
    // a resumed optimiser state brings back the rates it was saved with.
    private void ApplyLearningRates(TrainingPhase phase, int epoch)
    {
        var index = 0;
        var decay = Math.Pow(Options.LearningRateDecay, epoch / Options.LearningRateDecayInterval);
        foreach (var group in optimizer.ParamGroups)
        {
            var rate = crossEntropyRates[index++];
            group.LearningRate = phase == TrainingPhase.CrossEntropy ? rate * decay
                : rate == Options.LearningRate ? Options.SelfCritical!.LearningRate
                : Options.SelfCritical!.LearningRate * (rate / Options.LearningRate);
        }
    }

    /// <summary>The learning rate of each of Adam's parameter groups (the decoder's first), as the next step uses them.</summary>
    internal IReadOnlyList<double> LearningRates => [.. optimizer.ParamGroups.Select(group => group.LearningRate)];

    // A trainable encoder's parameters form their own group at EncoderLearningRate; its frozen ones are left out.
    private static (Adam Optimizer, double[] Rates) CreateOptimizer(CaptionModel model, CaptionTrainerOptions options)
    {
        if (model.Encoder is not { } encoder)
            return (torch.optim.Adam(model.parameters(), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay), [options.LearningRate]);
        // By name: parameters() hands out new wrappers, so the encoder's cannot be told apart by reference.
        var decoder = model.named_parameters().Where(p => !p.name.StartsWith("encoder.", StringComparison.Ordinal)).Select(p => p.parameter).ToArray();
        var groups = new List<Adam.ParamGroup> { new(decoder, lr: options.LearningRate) };
        var trainable = encoder.TrainableParameters().ToArray();
        if (trainable.Length > 0) groups.Add(new Adam.ParamGroup(trainable, lr: options.EncoderLearningRate ?? options.LearningRate));
        return (torch.optim.Adam(groups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay),
            [.. groups.Select(group => group.LearningRate)]);
    }

    /// <summary>Frees the optimiser state (the model stays the caller's).</summary>
    public void Dispose() => optimizer.Dispose();

    private StepOutcome Step(TrainingBatches batches)
    {
        var watch = Stopwatch.StartNew();
        using var batch = batches.Next();
        var tokens = CountTargets(batch.Targets, Model.PadId);
        if (tokens == 0) return new StepOutcome(0, 0, watch.Elapsed.TotalSeconds);
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
        return new StepOutcome(loss, tokens, watch.Elapsed.TotalSeconds);
    }

    private Tensor Loss(BatchTensors batch) => Options.Mode == LossMode.FullSequence
        ? Model.Loss(batch.Features, batch.Tokens, batch.Targets, batch.FeatureIndex)
        : CaptionLoss.Prefix((LstmCaptionModel)Model, batch.Features, batch.Tokens, batch.Targets, batch.FeatureIndex);

    private void EndEpoch(TrainingCheckpoint current, TrainingPhase phase, ICaptionDataset? validation, ValidationCaptions? captionSet, CheckpointStore? store)
    {
        var trainLoss = current.EpochTokens > 0 ? current.EpochLossSum / current.EpochTokens : double.NaN;
        var validationLoss = validation is null ? (double?)null : ValidationLoss(validation);
        var captions = captionSet?.GreedyCaptions(Model, validation!.Vocabulary, device);
        var bleu = Options.ValidationBleu ? captionSet!.Bleu4(captions!) : (double?)null;
        var ciderD = Options.SelfCritical is not null && captionSet is not null ? captionSet.CiderD(captions!) : (double?)null;
        var tokensPerSecond = current.EpochSeconds > 0 ? current.EpochTokens / current.EpochSeconds : 0;
        var selfCritical = phase == TrainingPhase.SelfCritical;
        double? PerSample(double sum) => selfCritical ? (current.EpochSamples > 0 ? sum / current.EpochSamples : double.NaN) : null;
        var metrics = new EpochMetrics(current.Epoch + 1, trainLoss, validationLoss, bleu, tokensPerSecond, TimeSpan.FromSeconds(current.EpochSeconds))
        {
            Phase = phase,
            ValidationCiderD = ciderD,
            MeanReward = PerSample(current.EpochRewardSum),
            MeanBaseline = PerSample(current.EpochBaselineSum),
            MeanSampleLength = PerSample(current.EpochSampleLengthSum),
            SamplesPerSecond = selfCritical ? (current.EpochSeconds > 0 ? current.EpochSamples / current.EpochSeconds : 0) : null,
        };
        current.History.Add(metrics);
        var improved = selfCritical ? SelfCriticalImproved(current, metrics) : CrossEntropyImproved(current, metrics);

        current.DatasetEpoch++;
        current.Epoch++;
        current.StepInEpoch = 0;
        current.EpochLossSum = 0;
        current.EpochTokens = 0;
        current.EpochSeconds = 0;
        current.EpochRewardSum = 0;
        current.EpochBaselineSum = 0;
        current.EpochSampleLengthSum = 0;
        current.EpochSamples = 0;

        var best = improved ? " (best)" : "";
        if (selfCritical)
            logger.LogInformation("Epoch {Epoch}/{Epochs} (self-critical): loss {TrainLoss:F4}, mean reward {Reward:F4}, mean baseline {Baseline:F4}, mean sampled length {Length:F2}, validation loss {ValidationLoss}, validation CIDEr-D {CiderD}, {SamplesPerSecond:F1} samples/s, {TokensPerSecond:F0} tokens/s{Best}",
                metrics.Epoch, TotalEpochs(current), trainLoss, metrics.MeanReward, metrics.MeanBaseline, metrics.MeanSampleLength,
                validationLoss?.ToString("F4") ?? "-", ciderD?.ToString("F4") ?? "-", metrics.SamplesPerSecond, tokensPerSecond, best);
        else
            logger.LogInformation("Epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4}, validation loss {ValidationLoss}, validation BLEU-4 {Bleu}{CiderD}, {TokensPerSecond:F0} tokens/s{Best}",
                metrics.Epoch, TotalEpochs(current), trainLoss, validationLoss?.ToString("F4") ?? "-", bleu?.ToString("F4") ?? "-",
                ciderD is { } score ? $", validation CIDEr-D {score:F4}" : "", tokensPerSecond, best);
        if (store is null) return;
        if (improved) SaveCheckpoint(store, CheckpointStore.Best, current);
        SaveCheckpoint(store, CheckpointStore.Last, current);
    }

    private static bool CrossEntropyImproved(TrainingCheckpoint current, EpochMetrics metrics)
    {
        // NaN never improves: a diverged epoch must not become the best one.
        var monitored = metrics.ValidationLoss ?? metrics.TrainLoss;
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
        return improved;
    }

    private static bool SelfCriticalImproved(TrainingCheckpoint current, EpochMetrics metrics)
    {
        var monitored = metrics.ValidationCiderD ?? metrics.MeanReward!.Value;
        var improved = !double.IsNaN(monitored) && (current.BestSelfCriticalScore is not { } best || monitored > best);
        if (improved)
        {
            current.BestEpoch = metrics.Epoch;
            current.BestSelfCriticalScore = monitored;
        }
        return improved;
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

    private void Report(TrainingCheckpoint current, TrainingPhase phase, int stepsPerEpoch, double loss, Pace pace)
    {
        if (progress is null) return;
        var epochs = TotalEpochs(current);
        var remaining = (long)(stepsPerEpoch - current.StepInEpoch) + (long)(epochs - current.Epoch - 1) * stepsPerEpoch;
        var tokensPerSecond = current.EpochSeconds > 0 ? current.EpochTokens / current.EpochSeconds : 0;
        progress.Report(new TrainingProgress(current.Epoch + 1, epochs, current.StepInEpoch, stepsPerEpoch, current.GlobalStep,
            loss, tokensPerSecond, pace.Estimate(remaining)) { Phase = phase });
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

    /// <summary>What one step trained on: its loss, the tokens it weighs, and for a self-critical step its sampled captions' sums.</summary>
    private readonly record struct StepOutcome(double Loss, long Tokens, double Seconds,
        double RewardSum = 0, double BaselineSum = 0, long SampleLengthSum = 0, long Samples = 0);

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

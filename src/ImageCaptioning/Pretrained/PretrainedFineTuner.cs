using System.Diagnostics;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// Fine-tunes a <see cref="PretrainedCaptioner"/> on a caption corpus with the library trainer's mechanisms: Adam with
/// the decoder's and the trainable encoder parameters' groups, learning-rate decay per epoch, gradient clipping, the
/// validation loss after each epoch (and, when asked, the corpus BLEU-4 and CIDEr-D of the validation images' greedy
/// captions, scored by <see cref="CaptionMetrics"/>), early stopping on one of them
/// (<see cref="PretrainedFineTuningOptions.EarlyStoppingMetric"/>), the <c>last</c>/<c>best</c> checkpoints of
/// <see cref="CaptionTrainerOptions.CheckpointDirectory"/> (weights under the checkpoint's own key names, Adam's state,
/// the position and the settings, committed by an atomic rename), resuming, cancellation, progress and the logger, as
/// <see cref="CaptionTrainer"/> runs them. A step is teacher forcing on one batch: the images through the checkpoint's
/// image processor, each caption's label ids from its tokenizer padded with -100 (behind the ids of
/// <see cref="PretrainedFineTuningOptions.Prompt"/>, not learnt, when one is set), the mean cross entropy over the real
/// labels (<see cref="PretrainedCaptioner.Loss"/>; BLIP's with its config's label smoothing). Nothing in a step draws random numbers (the pretrained networks run
/// without dropout), so a resumed run takes exactly the uninterrupted run's steps. Save the result with
/// <see cref="PretrainedCaptioner.Save"/>.
/// </summary>
public sealed class PretrainedFineTuner : IDisposable
{
    private readonly Adam optimizer;
    private readonly double[] groupRates;
    private readonly Parameter[] trainable;
    private readonly IReadOnlyList<KeyValuePair<string, string>> settings;
    private readonly ILogger logger;
    private readonly IProgress<TrainingProgress>? progress;
    private readonly IReadOnlyList<int>? promptIds;
    private TrainingCheckpoint? state;
    private string? stateSource;

    /// <summary>
    /// Creates a fine-tuner for <paramref name="captioner"/> (the caller keeps it): sets which parameters require
    /// gradients and builds the optimiser. The options are validated here.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid or does not fit the model; the message names it.</exception>
    /// <exception cref="NotSupportedException">The architecture cannot be fine-tuned yet.</exception>
    public PretrainedFineTuner(PretrainedCaptioner captioner, PretrainedFineTuningOptions options, ILogger? logger = null, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        if (!captioner.CanFineTune) throw new NotSupportedException($"{captioner.Architecture} cannot be fine-tuned yet");
        if (options.Encoder == PretrainedEncoderTraining.LastLayers && options.EncoderLayers > captioner.EncoderLayers)
            throw new ArgumentException($"{nameof(PretrainedFineTuningOptions.EncoderLayers)} {options.EncoderLayers} exceeds the encoder's {captioner.EncoderLayers} layers", nameof(options));
        if (options.Prompt is { } prompt)
        {
            if (!captioner.TakesPrompt)
                throw new ArgumentException($"{nameof(PretrainedFineTuningOptions.Prompt)}: {captioner.Architecture} takes no text prompt", nameof(options));
            promptIds = captioner.EncodePrompt(prompt);
            if (promptIds.Count == 0)
                throw new ArgumentException($"{nameof(PretrainedFineTuningOptions.Prompt)} \"{prompt}\" has no tokens in the checkpoint's vocabulary", nameof(options));
        }
        Captioner = captioner;
        this.logger = logger ?? NullLogger.Instance;
        this.progress = progress;
        settings = options.ResultAffectingSettings(captioner.Architecture);
        var named = captioner.NamedTrainableParameters(options.Encoder, options.EncoderLayers);
        trainable = [.. named.Select(p => p.Parameter)];
        var training = options.Training;
        var groups = new List<Adam.ParamGroup> { training.AdamGroup(named.Where(p => !p.InEncoder).Select(p => p.Parameter), training.LearningRate) };
        var encoder = named.Where(p => p.InEncoder).Select(p => p.Parameter).ToArray();
        if (encoder.Length > 0) groups.Add(training.AdamGroup(encoder, training.EncoderLearningRate ?? training.LearningRate));
        optimizer = torch.optim.Adam(groups, training.LearningRate, training.Beta1, training.Beta2, training.Epsilon, training.WeightDecay);
        groupRates = [.. groups.Select(group => group.LearningRate)];
    }

    /// <summary>The validated options.</summary>
    public PretrainedFineTuningOptions Options { get; }

    /// <summary>The captioner being fine-tuned (the caller keeps ownership).</summary>
    public PretrainedCaptioner Captioner { get; }

    /// <summary>
    /// Fine-tunes until <see cref="CaptionTrainerOptions.Epochs"/> epochs are finished, early stopping ends training,
    /// or <paramref name="cancellationToken"/> fires (then a resumable checkpoint is written at the current step). The
    /// first call resumes from <see cref="CaptionTrainerOptions.ResumeFrom"/> or from a <c>last</c> checkpoint in
    /// <see cref="CaptionTrainerOptions.CheckpointDirectory"/> when there is one; a later call continues where the
    /// previous one stopped. The captioner is left with the last epoch's weights, in inference mode.
    /// </summary>
    /// <exception cref="ArgumentException">A caption has more label tokens than the decoder's positions (named with its image), or early stopping or validation scores lack validation data.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is unreadable or does not fit.</exception>
    /// <exception cref="CheckpointMismatchException">The checkpoint was trained with other settings or other batches.</exception>
    /// <exception cref="IOException">An image cannot be read or decoded; the message names it.</exception>
    public TrainingResult Train(PretrainedCaptionData train, PretrainedCaptionData? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (validation is null && Options.Training.Patience is not null)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.Patience)} (early stopping) needs validation data", nameof(validation));
        if (validation is null && Options.ScoresCaptions)
            throw new ArgumentException($"{nameof(CaptionTrainerOptions.ValidationBleu)} and {nameof(PretrainedFineTuningOptions.EarlyStoppingMetric)} {Options.EarlyStoppingMetric} need validation data", nameof(validation));
        CheckLengths(train, nameof(train));
        if (validation is not null) CheckLengths(validation, nameof(validation));
        var training = Options.Training;
        var store = training.CheckpointDirectory is { } directory ? new CheckpointStore(directory) : null;
        var current = state ??= StartOrResume(train, store);
        current.CheckSameBatches(stateSource, train.Count, ShuffleSeedOf(train));

        var pace = new TrainingPace();
        try
        {
            Captioner.Model.train();
            while (current.Epoch < training.Epochs && !current.PatienceExhausted(training.Patience))
            {
                var decay = Math.Pow(training.LearningRateDecay, current.Epoch);
                var index = 0;
                // Set before every epoch: a resumed optimiser state brings back the rates it was saved with.
                foreach (var group in optimizer.ParamGroups) group.LearningRate = groupRates[index++] * decay;
                using (var batches = new TrainingBatches<PretrainedCaptionBatch>(train.Count, train.BatchOf, current.DatasetEpoch, current.StepInEpoch, training.PrefetchDepth))
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
                        progress?.Report(current.Progress(training.Epochs, loss, pace));
                    }
                }
                if (cancellationToken.IsCancellationRequested) return Cancel(store);
                EndEpoch(current, validation, store);
            }
            return current.Result(current.Epoch < training.Epochs ? TrainingStopReason.EarlyStopped : TrainingStopReason.Completed, logger, MonitoredName);
        }
        finally
        {
            Captioner.Model.eval();
        }
    }

    /// <summary>Frees the optimiser state (the captioner stays the caller's).</summary>
    public void Dispose() => optimizer.Dispose();

    private TrainingCheckpoint StartOrResume(PretrainedCaptionData train, CheckpointStore? store)
    {
        var path = CheckpointStore.ResumePath(Options.Training.ResumeFrom, store);
        if (path is null) return TrainingCheckpoint.Begin(settings, Options.Training.Seed, train.Count, train.Epoch, ShuffleSeedOf(train));
        var resumed = CheckpointStore.ReadState(path);
        resumed.Resume(path, settings, _ => true, Captioner.Model, optimizer, Captioner.Device);
        stateSource = path;
        logger.LogInformation("Resumed from {Checkpoint}: epoch {Epoch}, step {Step} of {Steps}, global step {GlobalStep}",
            path, resumed.Epoch + 1, resumed.StepInEpoch, resumed.StepsPerEpoch, resumed.GlobalStep);
        return resumed;
    }

    private static int? ShuffleSeedOf(PretrainedCaptionData data) => data.Options.Shuffle ? data.Options.Seed : null;

    // Checked before the first step rather than at the batch that holds the caption, which may come hours later.
    private void CheckLengths(PretrainedCaptionData data, string name)
    {
        if (Captioner.MaxLabelTokens is not { } positions) return;
        foreach (var (imageId, caption) in data.Pairs)
        {
            var count = Captioner.EncodeLabels(caption).Count + (promptIds?.Count ?? 0);
            if (count > positions)
                throw new ArgumentException($"a caption of image '{imageId}' in the {name} data has {count} label tokens{(promptIds is null ? "" : " with the prompt's")}, more than the decoder's {positions} positions: \"{caption}\"", name);
        }
    }

    private (double Loss, long Tokens, double Seconds) Step(TrainingBatches<PretrainedCaptionBatch> batches)
    {
        var watch = Stopwatch.StartNew();
        using var batch = batches.Next();
        using var scope = torch.NewDisposeScope();
        var pixels = Captioner.Preprocess(batch.Images);
        optimizer.zero_grad();
        var (loss, tokens) = Captioner.LossAndTokens(pixels, batch.Captions, promptIds);
        loss.backward();
        if (Options.Training.GradientClipNorm is { } clip) torch.nn.utils.clip_grad_norm_(trainable, clip);
        optimizer.step();
        return (loss.item<float>(), tokens, watch.Elapsed.TotalSeconds);
    }

    private double ValidationLoss(PretrainedCaptionData validation)
    {
        double sum = 0;
        long tokens = 0;
        Captioner.Model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            // Every batch of epoch 0: the same order each time, so epochs are compared on the same computation.
            for (var index = 0; index < validation.Count; index++)
            {
                using var batch = validation.BatchOf(0, index);
                using var scope = torch.NewDisposeScope();
                var (loss, count) = Captioner.LossAndTokens(Captioner.Preprocess(batch.Images), batch.Captions, promptIds);
                sum += loss.item<float>() * (double)count;
                tokens += count;
            }
        }
        finally
        {
            Captioner.Model.train();
        }
        return tokens > 0 ? sum / tokens : double.NaN;
    }

    /// <summary>
    /// Greedy captions of every validation image (each once, decoded as the batches are, captioned in batches of the
    /// data's batch size with the checkpoint's generation defaults and one beam, after the prompt when there is one,
    /// which the scored text leaves out) scored against all of the image's
    /// captions by <see cref="CaptionMetrics.Evaluate"/>: corpus BLEU-4 as NLTK's corpus_bleu, CIDEr-D as coco-caption.
    /// </summary>
    internal CaptionEvaluationResult ScoreValidation(PretrainedCaptionData validation)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var images = validation.Images;
        var captions = new List<string>(images.Count);
        var greedy = new PretrainedGenerationOptions { NumBeams = 1, ComputeLogProbability = false };
        var batchSize = validation.Options.BatchSize;
        var wasTraining = Captioner.Model.training;
        Captioner.Model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (var start = 0; start < images.Count; start += batchSize)
            {
                var decoded = new List<RgbImage>();
                try
                {
                    foreach (var image in images.Skip(start).Take(batchSize)) decoded.Add(validation.Decode(image.Path));
                    captions.AddRange(Captioner.Caption(decoded, greedy, Options.Prompt).Select(c => Captioner.DecodeTokens(c.TokenIds)));
                }
                finally
                {
                    foreach (var image in decoded) image.Dispose();
                }
            }
        }
        finally
        {
            if (wasTraining) Captioner.Model.train();
        }
        return CaptionMetrics.Evaluate(images.Select((image, i) => (image.ImageId, captions[i], image.Captions)));
    }

    private string MonitoredName => Options.EarlyStoppingMetric switch
    {
        PretrainedValidationMetric.Bleu4 => "validation BLEU-4",
        PretrainedValidationMetric.CiderD => "validation CIDEr-D",
        _ => "validation loss",
    };

    private void EndEpoch(TrainingCheckpoint current, PretrainedCaptionData? validation, CheckpointStore? store)
    {
        var trainLoss = current.EpochTokens > 0 ? current.EpochLossSum / current.EpochTokens : double.NaN;
        var validationLoss = validation is null ? (double?)null : ValidationLoss(validation);
        var scores = validation is not null && Options.ScoresCaptions ? ScoreValidation(validation) : null;
        var tokensPerSecond = current.EpochSeconds > 0 ? current.EpochTokens / current.EpochSeconds : 0;
        var metrics = new EpochMetrics(current.Epoch + 1, trainLoss, validationLoss, scores?.Bleu.Bleu4, tokensPerSecond, TimeSpan.FromSeconds(current.EpochSeconds))
        {
            ValidationCiderD = scores?.CiderD,
        };
        current.History.Add(metrics);
        var improved = Options.EarlyStoppingMetric switch
        {
            PretrainedValidationMetric.Bleu4 => current.RecordScoreEpoch(metrics, scores!.Bleu.Bleu4),
            PretrainedValidationMetric.CiderD => current.RecordScoreEpoch(metrics, scores!.CiderD),
            _ => current.RecordCrossEntropyEpoch(metrics),
        };
        current.NextEpoch();
        logger.LogInformation("Epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4}, validation loss {ValidationLoss}, validation BLEU-4 {Bleu}, validation CIDEr-D {CiderD}, {TokensPerSecond:F0} tokens/s{Best}",
            metrics.Epoch, Options.Training.Epochs, trainLoss, validationLoss?.ToString("F4") ?? "-", scores?.Bleu.Bleu4.ToString("F4") ?? "-",
            scores?.CiderD.ToString("F4") ?? "-", tokensPerSecond, improved ? " (best)" : "");
        if (store is null) return;
        if (improved) SaveCheckpoint(store, CheckpointStore.Best, current);
        SaveCheckpoint(store, CheckpointStore.Last, current);
    }

    private void SaveCheckpoint(CheckpointStore store, string name, TrainingCheckpoint current)
    {
        current.CaptureRandomState();
        store.Save(name, Captioner.Model, optimizer, current);
        logger.LogDebug("Wrote checkpoint {Checkpoint} at epoch {Epoch}, step {Step}", store.JsonPath(name), current.Epoch + 1, current.StepInEpoch);
    }

    private TrainingResult Cancel(CheckpointStore? store)
    {
        var current = state!;
        logger.LogInformation("Fine-tuning cancelled at epoch {Epoch}, step {Step}", current.Epoch + 1, current.StepInEpoch);
        if (store is not null) SaveCheckpoint(store, CheckpointStore.Last, current);
        return current.Result(TrainingStopReason.Cancelled, logger);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageCaptioning.Training;

/// <summary>
/// Where training stands, as recorded in a checkpoint's JSON next to its model and optimiser safetensors files.
/// Steps and epochs are counted from 0 here; <see cref="EpochMetrics.Epoch"/> counts from 1.
/// </summary>
internal sealed class TrainingCheckpoint
{
    /// <summary>Format 2 added <see cref="StateSha256"/> and made the digests required; format 1 checkpoints cannot be verified.</summary>
    public const int CurrentFormat = 2;

    /// <summary>The JSON key of <see cref="StateSha256"/>, which its digest leaves out.</summary>
    public const string StateDigestKey = "stateSha256";

    public int Format { get; set; } = CurrentFormat;

    public string LibraryVersion { get; set; } = "";

    /// <summary>The model weights file, relative to the JSON's directory.</summary>
    public string ModelFile { get; set; } = "";

    /// <summary>The optimiser state file, relative to the JSON's directory.</summary>
    public string OptimizerFile { get; set; } = "";

    /// <summary>SHA-256 of <see cref="ModelFile"/> (lower-case hex).</summary>
    public string? ModelSha256 { get; set; }

    /// <summary>SHA-256 of <see cref="OptimizerFile"/>.</summary>
    public string? OptimizerSha256 { get; set; }

    /// <summary>SHA-256 of the rest of this JSON (<see cref="IO.FileDigest.JsonSha256"/>): the position, RNG state, history and options.</summary>
    public string? StateSha256 { get; set; }

    /// <summary>The epoch in progress (= epochs finished), from 0.</summary>
    public int Epoch { get; set; }

    /// <summary>Steps finished in <see cref="Epoch"/>.</summary>
    public int StepInEpoch { get; set; }

    public long GlobalStep { get; set; }

    public int StepsPerEpoch { get; set; }

    /// <summary>
    /// The training dataset's epoch number that <see cref="Epoch"/> reads (its shuffle). The trainer owns it: it
    /// reads batches of this epoch with <see cref="Data.ICaptionDataset.BatchOf"/> and never moves the dataset's own epoch.
    /// </summary>
    public int DatasetEpoch { get; set; }

    /// <summary>
    /// The seed that, with <see cref="DatasetEpoch"/>, decides the training dataset's order; null when the dataset does
    /// not shuffle, and in checkpoints written before it was recorded (those resume without the check).
    /// </summary>
    public int? ShuffleSeed { get; set; }

    /// <summary>Loss × tokens summed over the steps finished in <see cref="Epoch"/>.</summary>
    public double EpochLossSum { get; set; }

    public long EpochTokens { get; set; }

    public double EpochSeconds { get; set; }

    /// <summary>Σ rewards of the captions sampled in <see cref="Epoch"/>'s finished steps, in a self-critical epoch.</summary>
    public double EpochRewardSum { get; set; }

    /// <summary>Σ baselines of those captions.</summary>
    public double EpochBaselineSum { get; set; }

    /// <summary>Σ lengths of those captions, their end tokens not counted.</summary>
    public long EpochSampleLengthSum { get; set; }

    /// <summary>Captions sampled in <see cref="Epoch"/>'s finished steps.</summary>
    public long EpochSamples { get; set; }

    public List<EpochMetrics> History { get; set; } = [];

    /// <summary>
    /// The epoch (from 0) at which self-critical training began, fixed once it has: the self-critical epochs run from
    /// it, whatever the cross-entropy epochs are set to on a later resume. Null while training is still (or only)
    /// cross-entropy, and in checkpoints written before self-critical training existed.
    /// </summary>
    public int? SelfCriticalStartEpoch { get; set; }

    /// <summary>The epoch (from 1) with the best monitored loss so far.</summary>
    public int? BestEpoch { get; set; }

    public double? BestLoss { get; set; }

    /// <summary>
    /// During self-critical training, the score a self-critical epoch must beat to become the best (validation CIDEr-D,
    /// or the mean training reward without a validation set); null until one is known.
    /// </summary>
    public double? BestSelfCriticalScore { get; set; }

    /// <summary>
    /// The best validation score so far when the best epoch is chosen by a score that grows as captions get better
    /// (<see cref="RecordScoreEpoch"/>: a pretrained fine-tuner's BLEU-4 or CIDEr-D); null otherwise.
    /// </summary>
    public double? BestScore { get; set; }

    public int EpochsWithoutImprovement { get; set; }

    /// <summary>libtorch's CPU generator state (torch.get_rng_state), base64.</summary>
    public string CpuRngState { get; set; } = "";

    public string OptionsHash { get; set; } = "";

    public Dictionary<string, string> Options { get; set; } = [];

    /// <summary>
    /// The state of a run that starts from scratch under <paramref name="settings"/> (the result-affecting ones, which
    /// resuming must match), seeding libtorch's generator with <paramref name="seed"/>.
    /// </summary>
    public static TrainingCheckpoint Begin(IReadOnlyList<KeyValuePair<string, string>> settings, long seed, int stepsPerEpoch, int datasetEpoch, int? shuffleSeed)
    {
        torch.manual_seed(seed);
        return new TrainingCheckpoint
        {
            LibraryVersion = IO.LibraryVersion.Current,
            StepsPerEpoch = stepsPerEpoch,
            DatasetEpoch = datasetEpoch,
            ShuffleSeed = shuffleSeed,
            OptionsHash = CaptionTrainerOptions.Hash(settings),
            Options = settings.ToDictionary(),
        };
    }

    /// <summary>
    /// Resumes this checkpoint (read from <paramref name="path"/>): checks the recorded settings against
    /// <paramref name="settings"/> (those <paramref name="binds"/> says are binding), adopts them, loads the weights into
    /// <paramref name="model"/> and the optimiser's state, and restores libtorch's generator.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">A binding setting differs.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is damaged or does not fit the model.</exception>
    public void Resume(string path, IReadOnlyList<KeyValuePair<string, string>> settings, Func<string, bool> binds, nn.Module model, OptimizerHelper optimizer, Device device)
    {
        CheckSettings(path, settings, binds);
        // What the run goes on with; differs from what was recorded only in settings that did not bind yet.
        Options = settings.ToDictionary();
        OptionsHash = CaptionTrainerOptions.Hash(settings);
        CheckpointStore.RestoreTensors(path, this, model, optimizer, device);
        RestoreRandomState(path);
    }

    private void CheckSettings(string path, IReadOnlyList<KeyValuePair<string, string>> settings, Func<string, bool> binds)
    {
        foreach (var (name, value) in settings.Where(pair => binds(pair.Key)))
        {
            if (!Options.TryGetValue(name, out var saved))
                throw new InvalidDataException($"{path}: the checkpoint does not record the setting {name}");
            if (saved != value)
                throw new CheckpointMismatchException(path, $"{path} was trained with {name} = {saved}, but the options say {value}: resume with the same settings, or start a new run");
        }
        foreach (var (name, saved) in Options)
        {
            if (binds(name) && !settings.Any(pair => pair.Key == name))
                throw new CheckpointMismatchException(path, $"{path} was trained with {name} = {saved}, but the options do not set it: resume with the same settings, or start a new run");
        }
        if (OptionsHash != CaptionTrainerOptions.Hash(Options))
            throw new InvalidDataException($"{path}: the recorded settings do not match their hash; the checkpoint was edited or damaged");
    }

    /// <summary>
    /// The position is only the uninterrupted run's when the training data cuts and orders its batches the same way:
    /// <paramref name="stepsPerEpoch"/> batches, shuffled with <paramref name="shuffleSeed"/> (null: not shuffled).
    /// </summary>
    /// <exception cref="CheckpointMismatchException">They differ; the message names <paramref name="source"/>.</exception>
    public void CheckSameBatches(string? source, int stepsPerEpoch, int? shuffleSeed)
    {
        var name = source ?? "the trainer";
        if (StepsPerEpoch != stepsPerEpoch)
            throw new CheckpointMismatchException(source, $"{name} was trained with {StepsPerEpoch} batches per epoch, but the training dataset has {stepsPerEpoch}: resume with the same dataset and batch size");
        if (ShuffleSeed is { } seed && shuffleSeed != seed)
            throw new CheckpointMismatchException(source, $"{name} was trained on a dataset shuffled with seed {seed}, but the training dataset {(shuffleSeed is { } other ? $"has seed {other}" : "does not shuffle")}: resume with the same dataset options");
    }

    private void RestoreRandomState(string path)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(CpuRngState);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{path}: the RNG state is not base64 ({e.Message})", e);
        }
        using var scope = torch.NewDisposeScope();
        try
        {
            torch.set_rng_state(TensorSpan.Create<byte>(bytes, [bytes.Length]));
        }
        catch (ExternalException e)
        {
            throw new InvalidDataException($"{path}: the RNG state was rejected by libtorch ({e.Message})", e);
        }
    }

    /// <summary>Records libtorch's CPU generator state, before the checkpoint is written.</summary>
    public void CaptureRandomState()
    {
        using var scope = torch.NewDisposeScope();
        CpuRngState = Convert.ToBase64String(torch.get_rng_state().ToArray<byte>());
    }

    /// <summary>
    /// Records a finished cross-entropy epoch's monitored loss (the validation loss, else the training loss) for
    /// early stopping and the best checkpoint, and says whether it is the best so far.
    /// </summary>
    public bool RecordCrossEntropyEpoch(EpochMetrics metrics)
    {
        // NaN never improves: a diverged epoch must not become the best one.
        var monitored = metrics.ValidationLoss ?? metrics.TrainLoss;
        var improved = !double.IsNaN(monitored) && (BestLoss is not { } best || monitored < best);
        if (improved)
        {
            BestEpoch = metrics.Epoch;
            BestLoss = monitored;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }
        return improved;
    }

    /// <summary>
    /// Records a finished epoch's <paramref name="score"/> (higher is better) for early stopping and the best
    /// checkpoint, and says whether it is the best so far.
    /// </summary>
    public bool RecordScoreEpoch(EpochMetrics metrics, double score)
    {
        var improved = !double.IsNaN(score) && (BestScore is not { } best || score > best);
        if (improved)
        {
            BestEpoch = metrics.Epoch;
            BestScore = score;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }
        return improved;
    }

    /// <summary>Whether early stopping with <paramref name="patience"/> (null: off) ends training now.</summary>
    public bool PatienceExhausted(int? patience) => patience is { } epochs && EpochsWithoutImprovement >= epochs;

    /// <summary>Moves to the next epoch (and the dataset's next order) with the epoch's sums cleared.</summary>
    public void NextEpoch()
    {
        DatasetEpoch++;
        Epoch++;
        StepInEpoch = 0;
        EpochLossSum = 0;
        EpochTokens = 0;
        EpochSeconds = 0;
        EpochRewardSum = 0;
        EpochBaselineSum = 0;
        EpochSampleLengthSum = 0;
        EpochSamples = 0;
    }

    /// <summary>The result of the run so far, stopped for <paramref name="reason"/> (early stopping is logged to <paramref name="logger"/>).</summary>
    public TrainingResult Result(TrainingStopReason reason, Microsoft.Extensions.Logging.ILogger logger, string monitored = "validation loss")
    {
        if (reason == TrainingStopReason.EarlyStopped)
            Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger,
                "Early stopping after epoch {Epoch}: no better {Monitored} for {Patience} epochs (best: epoch {BestEpoch})",
                Epoch, monitored, EpochsWithoutImprovement, BestEpoch);
        return new TrainingResult([.. History], BestEpoch, reason, GlobalStep, StepInEpoch);
    }

    /// <summary>Where the run stands after a step of <paramref name="loss"/>, out of <paramref name="epochs"/> epochs, with the time left at <paramref name="pace"/>.</summary>
    public TrainingProgress Progress(int epochs, double loss, TrainingPace pace)
    {
        var remaining = (long)(StepsPerEpoch - StepInEpoch) + (long)(epochs - Epoch - 1) * StepsPerEpoch;
        var tokensPerSecond = EpochSeconds > 0 ? EpochTokens / EpochSeconds : 0;
        return new TrainingProgress(Epoch + 1, epochs, StepInEpoch, StepsPerEpoch, GlobalStep, loss, tokensPerSecond, pace.Estimate(remaining));
    }

    internal static readonly JsonSerializerOptions Json = IO.JsonFile.Strict(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // A diverged run has NaN losses: they are recorded, not a reason for the checkpoint to fail.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    });
}

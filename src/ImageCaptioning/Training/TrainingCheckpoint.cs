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

    public int EpochsWithoutImprovement { get; set; }

    /// <summary>libtorch's CPU generator state (torch.get_rng_state), base64.</summary>
    public string CpuRngState { get; set; } = "";

    public string OptionsHash { get; set; } = "";

    public Dictionary<string, string> Options { get; set; } = [];

    internal static readonly JsonSerializerOptions Json = IO.JsonFile.Strict(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // A diverged run has NaN losses: they are recorded, not a reason for the checkpoint to fail.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    });
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImageCaptioning.Training;

/// <summary>
/// How a <see cref="CaptionTrainer"/> trains. Validated when the trainer is created; every exception names the
/// setting at fault.
/// </summary>
public sealed record CaptionTrainerOptions
{
    /// <summary>Full passes over the training set (counted from the start of training, resumed epochs included).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Adam's learning rate; the recipe's 1e-3 by default.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Adam's first-moment decay.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam's second-moment decay.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam's denominator term.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Adam's L2 penalty added to the gradients (torch.optim.Adam's <c>weight_decay</c>).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Rescales the gradients so their global 2-norm is at most this value; null turns clipping off.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>
    /// The loss: <see cref="LossMode.FullSequence"/> needs a full-sequence dataset, <see cref="LossMode.Prefix"/> a
    /// prefix-expansion one (the recipe's).
    /// </summary>
    public LossMode Mode { get; init; } = LossMode.FullSequence;

    /// <summary>
    /// Early stopping: training ends after this many consecutive epochs without a lower validation loss. Null turns
    /// it off. Needs a validation set.
    /// </summary>
    public int? Patience { get; init; }

    /// <summary>
    /// Where the <c>last</c> and <c>best</c> checkpoints go; null writes none. When it already holds a <c>last</c>
    /// checkpoint, training resumes from it.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// A checkpoint to resume from: its JSON file (<c>last.json</c>, <c>best.json</c>) or a directory holding a
    /// <c>last.json</c>. Takes precedence over a checkpoint found in <see cref="CheckpointDirectory"/>.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Also score BLEU-4 on the validation set each epoch, by greedy decoding (not teacher forcing) against each
    /// image's reference captions. Needs a validation set.
    /// </summary>
    public bool ValidationBleu { get; init; }

    /// <summary>Seeds libtorch's generator (dropout) when training starts from scratch.</summary>
    public long Seed { get; init; }

    /// <summary>Where the model and batches live; null for the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// Most training batches built ahead of the step that needs them, on one worker thread, in host memory; 0 builds
    /// each batch on the training thread when its step starts. Batches, losses and checkpoints are the same for every
    /// depth, so a run may resume with another one.
    /// </summary>
    public int PrefetchDepth { get; init; } = 2;

    /// <summary>Throws with a message naming the first invalid setting; returns the options.</summary>
    public CaptionTrainerOptions Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"{nameof(Epochs)} must be at least 1");
        RequirePositive(LearningRate, nameof(LearningRate));
        if (Beta1 is < 0 or >= 1 || double.IsNaN(Beta1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, $"{nameof(Beta1)} must be within [0, 1)");
        if (Beta2 is < 0 or >= 1 || double.IsNaN(Beta2)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, $"{nameof(Beta2)} must be within [0, 1)");
        RequirePositive(Epsilon, nameof(Epsilon));
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, $"{nameof(WeightDecay)} must be zero or a positive number");
        if (GradientClipNorm is { } clip) RequirePositive(clip, nameof(GradientClipNorm));
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), Mode, $"{nameof(Mode)} is not a loss mode");
        if (Patience is < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, $"{nameof(Patience)} must be at least 1 epoch, or null to turn early stopping off");
        if (CheckpointDirectory is { } directory && string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException($"{nameof(CheckpointDirectory)} must be a path, or null for no checkpoints", nameof(CheckpointDirectory));
        if (ResumeFrom is { } resume && string.IsNullOrWhiteSpace(resume))
            throw new ArgumentException($"{nameof(ResumeFrom)} must be a path, or null", nameof(ResumeFrom));
        if (PrefetchDepth < 0) throw new ArgumentOutOfRangeException(nameof(PrefetchDepth), PrefetchDepth, $"{nameof(PrefetchDepth)} must be 0 (no prefetching) or more");
        if (Device is { type: DeviceType.CUDA } cuda && (!torch.cuda.is_available() || cuda.index >= torch.cuda.device_count()))
            throw new ArgumentException($"{nameof(Device)} {cuda} is not available (CUDA devices: {torch.cuda.device_count()})", nameof(Device));
        return this;
    }

    /// <summary>
    /// The settings that change what training computes, as (name, value) pairs: a checkpoint records them and
    /// resuming with different values is refused. Epochs, patience, paths, validation BLEU and the device may change.
    /// </summary>
    internal IReadOnlyList<KeyValuePair<string, string>> ResultAffectingSettings() =>
    [
        new(nameof(LearningRate), Format(LearningRate)),
        new(nameof(Beta1), Format(Beta1)),
        new(nameof(Beta2), Format(Beta2)),
        new(nameof(Epsilon), Format(Epsilon)),
        new(nameof(WeightDecay), Format(WeightDecay)),
        new(nameof(GradientClipNorm), GradientClipNorm is { } clip ? Format(clip) : "off"),
        new(nameof(Mode), Mode.ToString()),
        new(nameof(Seed), Seed.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>SHA-256 of <see cref="ResultAffectingSettings"/>, hex.</summary>
    internal string Hash()
    {
        var text = string.Join('\n', ResultAffectingSettings().Select(pair => $"{pair.Key}={pair.Value}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static void RequirePositive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive number");
    }
}

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
    public int Epochs { get; init => field = OptionGuard.AtLeast(value, 1); } = 10;

    /// <summary>Adam's learning rate; the recipe's 1e-3 by default.</summary>
    public double LearningRate { get; init => field = OptionGuard.Positive(value); } = 1e-3;

    /// <summary>
    /// Adam's learning rate for the trainable parameters of the model's <see cref="Modeling.CaptionModel.Encoder"/>
    /// (fine-tuned pretrained blocks usually want a smaller one, as in sgrvinod's tutorial: 1e-4 against 4e-4); null
    /// uses <see cref="LearningRate"/>. Ignored for a model without an encoder.
    /// </summary>
    public double? EncoderLearningRate { get; init => field = value is { } rate ? OptionGuard.Positive(rate) : null; }

    /// <summary>
    /// Multiplies every cross-entropy learning rate after each epoch: epoch e (from 0) trains at rate × decay^e, as
    /// sgrvinod's tutorial shrinks its rates by 0.8. Default 1 (constant). Self-critical epochs keep their own rate.
    /// </summary>
    public double LearningRateDecay { get; init => field = OptionGuard.Require(value, value is > 0 and <= 1, "must be within (0, 1]"); } = 1;

    /// <summary>
    /// Epochs between two applications of <see cref="LearningRateDecay"/>: epoch e (from 0) trains at
    /// rate × decay^⌊e / interval⌋, as torch.optim.lr_scheduler.StepLR(step_size = interval, gamma = decay). Default 1
    /// (every epoch, ExponentialLR).
    /// </summary>
    public int LearningRateDecayInterval { get; init => field = OptionGuard.Require(value, value >= 1, "must be at least 1 epoch"); } = 1;

    /// <summary>Adam's first-moment decay.</summary>
    public double Beta1 { get; init => field = OptionGuard.Require(value, value is >= 0 and < 1, "must be within [0, 1)"); } = 0.9;

    /// <summary>Adam's second-moment decay.</summary>
    public double Beta2 { get; init => field = OptionGuard.Require(value, value is >= 0 and < 1, "must be within [0, 1)"); } = 0.999;

    /// <summary>Adam's denominator term.</summary>
    public double Epsilon { get; init => field = OptionGuard.Positive(value); } = 1e-8;

    /// <summary>Adam's L2 penalty added to the gradients (torch.optim.Adam's <c>weight_decay</c>).</summary>
    public double WeightDecay { get; init => field = OptionGuard.Require(value, value >= 0 && double.IsFinite(value), "must be zero or a positive number"); }

    /// <summary>Rescales the gradients so their global 2-norm is at most this value; null turns clipping off.</summary>
    public double? GradientClipNorm { get; init => field = value is { } clip ? OptionGuard.Positive(clip) : null; }

    /// <summary>
    /// The loss: <see cref="LossMode.FullSequence"/> needs a full-sequence dataset, <see cref="LossMode.Prefix"/> a
    /// prefix-expansion one (the recipe's).
    /// </summary>
    public LossMode Mode { get; init => field = OptionGuard.Defined(value); } = LossMode.FullSequence;

    /// <summary>
    /// Early stopping: training ends after this many consecutive epochs without a lower validation loss. Null turns
    /// it off. Needs a validation set.
    /// </summary>
    public int? Patience { get; init => field = OptionGuard.Require(value, value is null or >= 1, "must be at least 1 epoch, or null to turn early stopping off"); }

    /// <summary>
    /// Where the <c>last</c> and <c>best</c> checkpoints go; null writes none. When it already holds a <c>last</c>
    /// checkpoint, training resumes from it.
    /// </summary>
    public string? CheckpointDirectory { get; init => field = OptionGuard.Require(value, value is null || !string.IsNullOrWhiteSpace(value), "must be a path, or null for no checkpoints"); }

    /// <summary>
    /// A checkpoint to resume from: its JSON file (<c>last.json</c>, <c>best.json</c>) or a directory holding a
    /// <c>last.json</c>. Takes precedence over a checkpoint found in <see cref="CheckpointDirectory"/>.
    /// </summary>
    public string? ResumeFrom { get; init => field = OptionGuard.Require(value, value is null || !string.IsNullOrWhiteSpace(value), "must be a path, or null"); }

    /// <summary>
    /// Also score BLEU-4 on the validation set each epoch, by greedy decoding (not teacher forcing) against each
    /// image's reference captions. Needs a validation set.
    /// </summary>
    public bool ValidationBleu { get; init; }

    /// <summary>
    /// Self-critical sequence training after the cross-entropy epochs: <see cref="SelfCriticalOptions.Epochs"/> more
    /// epochs that sample captions and reinforce those whose CIDEr-D beats a baseline (see <see cref="CaptionTrainer"/>);
    /// null (the default) trains with cross-entropy only. Needs <see cref="LossMode.FullSequence"/>.
    /// </summary>
    public SelfCriticalOptions? SelfCritical { get; init; }

    /// <summary>Seeds libtorch's generator (dropout) when training starts from scratch.</summary>
    public long Seed { get; init; }

    /// <summary>Where the model and batches live; null for the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// Most training batches built ahead of the step that needs them, on one worker thread, in host memory; 0 builds
    /// each batch on the training thread when its step starts. Batches, losses and checkpoints are the same for every
    /// depth, so a run may resume with another one.
    /// </summary>
    public int PrefetchDepth { get; init => field = OptionGuard.Require(value, value >= 0, "must be 0 (no prefetching) or more"); } = 2;

    /// <summary>
    /// Checks what depends on the machine rather than on a value, that a CUDA <see cref="Device"/> exists here, and
    /// how settings combine: self-critical training needs <see cref="LossMode.FullSequence"/>, and its
    /// <see cref="SelfCriticalBaseline.MeanOfOtherSamples"/> baseline at least 2 samples per image. The trainer calls
    /// it; each setting is checked as it is set.
    /// </summary>
    /// <exception cref="ArgumentException">The CUDA device is not available, or two settings do not combine; the message names them.</exception>
    public CaptionTrainerOptions Validate()
    {
        if (Device is { type: DeviceType.CUDA } cuda && (!torch.cuda.is_available() || cuda.index >= torch.cuda.device_count()))
            throw new ArgumentException($"{nameof(Device)} {cuda} is not available (CUDA devices: {torch.cuda.device_count()})", nameof(Device));
        if (SelfCritical is { } selfCritical)
        {
            // Sampling whole captions needs a model that reads whole captions; prefix samples are one next token each.
            if (Mode != LossMode.FullSequence)
                throw new ArgumentException($"{nameof(SelfCritical)} training samples whole captions and needs {nameof(Mode)} {LossMode.FullSequence}, not {Mode}", nameof(SelfCritical));
            if (selfCritical.Baseline == SelfCriticalBaseline.MeanOfOtherSamples && selfCritical.SamplesPerImage < 2)
                throw new ArgumentException($"{nameof(SelfCritical)}.{nameof(SelfCriticalOptions.Baseline)} {SelfCriticalBaseline.MeanOfOtherSamples} needs {nameof(SelfCritical)}.{nameof(SelfCriticalOptions.SamplesPerImage)} of at least 2, not {selfCritical.SamplesPerImage}", nameof(SelfCritical));
        }
        return this;
    }

    /// <summary>
    /// The settings that change what training computes, as (name, value) pairs: a checkpoint records them and
    /// resuming with different values is refused. Epochs, patience, paths, validation BLEU and the device may change.
    /// The self-critical ones are named <c>SelfCritical.*</c> (<see cref="IsSelfCriticalSetting"/>) and listed only when
    /// <see cref="SelfCritical"/> is set, so that checkpoints written without it keep their hash.
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
        // Only when set, so that checkpoints written before the setting existed keep their hash.
        .. (LearningRateDecay != 1 ? [new KeyValuePair<string, string>(nameof(LearningRateDecay), Format(LearningRateDecay))] : Array.Empty<KeyValuePair<string, string>>()),
        .. (LearningRateDecayInterval != 1 ? [new KeyValuePair<string, string>(nameof(LearningRateDecayInterval), LearningRateDecayInterval.ToString(CultureInfo.InvariantCulture))] : Array.Empty<KeyValuePair<string, string>>()),
        .. (EncoderLearningRate is { } encoderRate ? [new KeyValuePair<string, string>(nameof(EncoderLearningRate), Format(encoderRate))] : Array.Empty<KeyValuePair<string, string>>()),
        .. (SelfCritical is { } selfCritical ? SelfCriticalSettings(selfCritical) : []),
    ];

    /// <summary>Whether <paramref name="name"/> is one of the self-critical settings of <see cref="ResultAffectingSettings"/>.</summary>
    internal static bool IsSelfCriticalSetting(string name) => name.StartsWith(SelfCriticalPrefix, StringComparison.Ordinal);

    /// <summary>SHA-256 of <see cref="ResultAffectingSettings"/>, hex.</summary>
    internal string Hash() => Hash(ResultAffectingSettings());

    /// <summary>SHA-256 of (name, value) pairs in their order, hex: what a checkpoint's recorded settings must hash to.</summary>
    internal static string Hash(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var text = string.Join('\n', settings.Select(pair => $"{pair.Key}={pair.Value}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private const string SelfCriticalPrefix = nameof(SelfCritical) + ".";

    // Its epochs are left out: like the cross-entropy epochs, they may grow when a run is resumed.
    private static KeyValuePair<string, string>[] SelfCriticalSettings(SelfCriticalOptions options) =>
    [
        new(SelfCriticalPrefix + nameof(SelfCriticalOptions.LearningRate), Format(options.LearningRate)),
        new(SelfCriticalPrefix + nameof(SelfCriticalOptions.SamplesPerImage), options.SamplesPerImage.ToString(CultureInfo.InvariantCulture)),
        new(SelfCriticalPrefix + nameof(SelfCriticalOptions.MaxLength), options.MaxLength.ToString(CultureInfo.InvariantCulture)),
        new(SelfCriticalPrefix + nameof(SelfCriticalOptions.Temperature), Format(options.Temperature)),
        new(SelfCriticalPrefix + nameof(SelfCriticalOptions.Baseline), options.Baseline.ToString()),
    ];

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

using System.Globalization;
using ImageCaptioning.Training;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// How a <see cref="PretrainedFineTuner"/> fine-tunes: the library trainer's settings (<see cref="Training"/>: epochs,
/// Adam, learning-rate decay, gradient clipping, early stopping, checkpoints, resuming, seed, prefetching) and which of
/// the image encoder trains. Validated when the fine-tuner is created; every exception names the setting.
/// </summary>
public sealed record PretrainedFineTuningOptions
{
    /// <summary>
    /// The trainer's settings, with their meaning in <see cref="CaptionTrainer"/>. <see cref="CaptionTrainerOptions.Mode"/>
    /// must stay <see cref="LossMode.FullSequence"/> (the pretrained decoders are teacher-forced over whole captions);
    /// <see cref="CaptionTrainerOptions.SelfCritical"/> and <see cref="CaptionTrainerOptions.Device"/> are not used here
    /// (the captioner's own device is: <see cref="PretrainedCaptionerOptions.Device"/>) and must stay unset.
    /// <see cref="CaptionTrainerOptions.ValidationBleu"/> scores the greedy captions of the validation images after each
    /// epoch (BLEU-4 and CIDEr-D). <see cref="CaptionTrainerOptions.EncoderLearningRate"/> is the trainable encoder
    /// parameters' rate.
    /// </summary>
    public CaptionTrainerOptions Training { get; init => field = OptionGuard.NotNull(value); } = new();

    /// <summary>Which of the image encoder trains; frozen by default, as fine-tuning a captioner on a small corpus usually is.</summary>
    public PretrainedEncoderTraining Encoder { get; init => field = OptionGuard.Defined(value); } = PretrainedEncoderTraining.Frozen;

    /// <summary>The encoder layers that train with <see cref="PretrainedEncoderTraining.LastLayers"/> (checked against the model when the fine-tuner is created).</summary>
    public int EncoderLayers { get; init => field = OptionGuard.AtLeast(value, 1); } = 1;

    /// <summary>
    /// What the best checkpoint and early stopping (<see cref="CaptionTrainerOptions.Patience"/>) go by: the validation
    /// loss (the default), or the BLEU-4 or CIDEr-D of the validation images' greedy captions, which are then scored
    /// each epoch whether or not <see cref="CaptionTrainerOptions.ValidationBleu"/> is set. A score needs validation data.
    /// </summary>
    public PretrainedValidationMetric EarlyStoppingMetric { get; init => field = OptionGuard.Defined(value); } = PretrainedValidationMetric.Loss;

    /// <summary>
    /// A text prompt every caption continues, for architectures that take one (<see cref="PretrainedCaptioner.TakesPrompt"/>:
    /// BLIP), as BLIP's own fine-tuning feeds <c>"a picture of "</c>: the decoder reads the start token, the prompt's
    /// tokens and the caption's, and the loss leaves out the prompt's tokens (their labels are -100), so only the
    /// caption is learnt. Validation captions are generated after the same prompt and scored without it. Caption with
    /// the same prompt after fine-tuning. Null (the default) trains without a prompt; a blank one is refused.
    /// </summary>
    public string? Prompt { get; init => field = OptionGuard.Require(value, value is null || !string.IsNullOrWhiteSpace(value), "must be null or have text"); }

    /// <summary>Whether the validation images are captioned and scored after each epoch.</summary>
    internal bool ScoresCaptions => Training.ValidationBleu || EarlyStoppingMetric != PretrainedValidationMetric.Loss;

    /// <summary>Checks how the settings combine.</summary>
    /// <exception cref="ArgumentException">A trainer setting this trainer does not use is set; the message names it.</exception>
    public PretrainedFineTuningOptions Validate()
    {
        Training.Validate();
        if (Training.Mode != LossMode.FullSequence)
            throw new ArgumentException($"{nameof(Training)}.{nameof(CaptionTrainerOptions.Mode)} must be {LossMode.FullSequence} to fine-tune a pretrained captioner, not {Training.Mode}", nameof(Training));
        if (Training.SelfCritical is not null)
            throw new ArgumentException($"{nameof(Training)}.{nameof(CaptionTrainerOptions.SelfCritical)} is not supported by the fine-tuner", nameof(Training));
        if (Training.Device is not null)
            throw new ArgumentException($"{nameof(Training)}.{nameof(CaptionTrainerOptions.Device)} is not used: the captioner trains on its own device ({nameof(PretrainedCaptionerOptions)}.{nameof(PretrainedCaptionerOptions.Device)})", nameof(Training));
        return this;
    }

    /// <summary>The trainer's result-affecting settings and the encoder's, as a checkpoint records them.</summary>
    internal IReadOnlyList<KeyValuePair<string, string>> ResultAffectingSettings(string architecture) =>
    [
        .. Training.ResultAffectingSettings(),
        new("Pretrained.Architecture", architecture),
        new("Pretrained." + nameof(Encoder), Encoder.ToString()),
        .. (Encoder == PretrainedEncoderTraining.LastLayers
            ? [new KeyValuePair<string, string>("Pretrained." + nameof(EncoderLayers), EncoderLayers.ToString(CultureInfo.InvariantCulture))]
            : Array.Empty<KeyValuePair<string, string>>()),
        // Listed only when it is not the loss, so that checkpoints written before it existed keep their hash; a resume
        // must keep it, as the recorded best value is of that metric.
        .. (EarlyStoppingMetric != PretrainedValidationMetric.Loss
            ? [new KeyValuePair<string, string>("Pretrained." + nameof(EarlyStoppingMetric), EarlyStoppingMetric.ToString())]
            : Array.Empty<KeyValuePair<string, string>>()),
        .. (Prompt is not null ? [new KeyValuePair<string, string>("Pretrained." + nameof(Prompt), Prompt)] : Array.Empty<KeyValuePair<string, string>>()),
    ];
}

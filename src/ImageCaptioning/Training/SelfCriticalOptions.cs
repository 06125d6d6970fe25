namespace ImageCaptioning.Training;

/// <summary>What the reward of each sampled caption is compared with in <see cref="SelfCriticalLoss"/>.</summary>
public enum SelfCriticalBaseline
{
    /// <summary>
    /// The reward of the image's greedy caption, decoded by the same model without gradient (Rennie et al. 2017): a
    /// sample is reinforced when it beats what the model would say at test time.
    /// </summary>
    Greedy,

    /// <summary>
    /// The mean reward of the image's other samples (self-critical.pytorch's "new self-critical",
    /// <see cref="SelfCriticalLoss.MeanOfOtherSamples"/>): no greedy decoding, and needs at least 2 samples per image.
    /// </summary>
    MeanOfOtherSamples,
}

/// <summary>
/// Self-critical sequence training after the cross-entropy epochs: captions sampled from the model are rewarded with
/// their CIDEr-D against the image's training references (<see cref="Evaluation.CiderDReward"/>), less a baseline, by
/// REINFORCE (<see cref="SelfCriticalLoss"/>). Each setting is checked as it is set; the defaults are
/// self-critical.pytorch's SCST configurations (<c>configs/fc_rl.yml</c>, <c>updown_sc.yml</c>).
/// </summary>
public sealed record SelfCriticalOptions
{
    /// <summary>
    /// Passes over the training set with the self-critical loss, run after the cross-entropy epochs; at least 1. 20 by
    /// default, as <c>fc_rl.yml</c> runs epochs 30 to 50 with it.
    /// </summary>
    public int Epochs { get; init => field = OptionGuard.AtLeast(value, 1); } = 20;

    /// <summary>
    /// Adam's learning rate for the self-critical epochs, in place of the cross-entropy one: 5e-5 by default,
    /// self-critical.pytorch's, a tenth of its cross-entropy rate, because a sampled reward is a noisy gradient and
    /// large steps on it undo what cross-entropy learnt.
    /// </summary>
    public double LearningRate { get; init => field = OptionGuard.Positive(value); } = 5e-5;

    /// <summary>Captions sampled per training image at each step, each with its own reward; 5 by default.</summary>
    public int SamplesPerImage { get; init => field = OptionGuard.AtLeast(value, 1); } = 5;

    /// <summary>
    /// Most tokens a sampled (and greedy) caption may have after the start token, the end token included, as
    /// <see cref="Modeling.DecodingOptions.MaxLength"/> counts them: a caption cut at this length earns its reward
    /// like any other. 16 by default, the caption length self-critical.pytorch's preprocessing keeps.
    /// </summary>
    public int MaxLength { get; init => field = OptionGuard.AtLeast(value, 1); } = 16;

    /// <summary>Divides the logits before sampling: 1 samples from the model's own distribution, below 1 sharpens it.</summary>
    public double Temperature { get; init => field = OptionGuard.Positive(value); } = 1.0;

    /// <summary>
    /// What a sample's reward is compared with: <see cref="SelfCriticalBaseline.Greedy"/> by default;
    /// <see cref="SelfCriticalBaseline.MeanOfOtherSamples"/> needs <see cref="SamplesPerImage"/> of at least 2, which
    /// the trainer checks when it combines the two.
    /// </summary>
    public SelfCriticalBaseline Baseline { get; init => field = OptionGuard.Defined(value); } = SelfCriticalBaseline.Greedy;
}

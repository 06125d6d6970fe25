namespace ImageCaptioning.Training;

/// <summary>
/// The REINFORCE loss of self-critical sequence training (Rennie et al. 2017): each sampled caption's log-probability
/// weighted by how much its reward beats a baseline, as self-critical.pytorch's <c>RewardCriterion</c> computes it.
/// </summary>
public static class SelfCriticalLoss
{
    /// <summary>
    /// −Σ<sub>n,t</sub> mask·(reward<sub>n</sub> − baseline<sub>n</sub>)·log p<sub>n,t</sub> / Σ mask: the mean over
    /// every real step of the batch, not over captions, so a long caption weighs in proportion to its steps.
    /// </summary>
    /// <param name="logProbabilities">[N, T] floating point: the log-probability of each sampled token, with its graph.</param>
    /// <param name="mask">[N, T], floating point or Bool: 1 at real steps (through the end token), 0 after; see <see cref="SelfCriticalSequences.Mask"/>.</param>
    /// <param name="rewards">[N]: each caption's reward (CIDEr-D, <see cref="Evaluation.CiderDReward"/>).</param>
    /// <param name="baselines">[N]: each caption's baseline, the greedy caption's reward for the same image or <see cref="MeanOfOtherSamples"/>.</param>
    /// <returns>A scalar on the log-probabilities' device; the rewards and baselines carry no gradient.</returns>
    /// <exception cref="ArgumentException">A shape differs from the above, the log-probabilities are not floating point, or the mask has no real step.</exception>
    public static Tensor Compute(Tensor logProbabilities, Tensor mask, Tensor rewards, Tensor baselines)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(baselines);
        if (logProbabilities.dim() != 2 || !logProbabilities.is_floating_point())
        {
            throw new ArgumentException(
                $"The log-probabilities must be a floating-point [N, T] tensor, not a [{Shape(logProbabilities)}] {logProbabilities.dtype} one.",
                nameof(logProbabilities));
        }
        var rows = logProbabilities.size(0);
        if (!mask.shape.SequenceEqual(logProbabilities.shape))
            throw new ArgumentException($"The mask is [{Shape(mask)}]; it must match the log-probabilities' [{Shape(logProbabilities)}].", nameof(mask));
        CheckPerCaption(rewards, rows, nameof(rewards));
        CheckPerCaption(baselines, rows, nameof(baselines));

        using var scope = torch.NewDisposeScope();
        var dtype = logProbabilities.dtype;
        var device = logProbabilities.device;
        var weights = mask.to(dtype, device);
        var steps = weights.sum();
        if (!(steps.ToDouble() > 0)) throw new ArgumentException("The mask has no real step; every sampled caption has at least its first.", nameof(mask));
        // REINFORCE treats the reward as a constant of the sample: no gradient may flow into whatever computed it.
        var advantage = rewards.detach().to(dtype, device).sub(baselines.detach().to(dtype, device));
        var weighted = logProbabilities.mul(weights).mul(advantage.unsqueeze(1));
        return weighted.sum().neg().div(steps).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The baseline of "new self-critical" (self-critical.pytorch's <c>new_self_critical</c>): for each sample, the mean
    /// reward of the other samples of the same image, so no greedy caption needs decoding.
    /// </summary>
    /// <param name="rewards">The rewards of the samples, the <paramref name="samplesPerImage"/> samples of each image together.</param>
    /// <param name="samplesPerImage">How many consecutive samples belong to one image; at least 2.</param>
    /// <returns>One baseline per sample.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samplesPerImage"/> is below 2, or the rewards are not a whole number of images.</exception>
    public static double[] MeanOfOtherSamples(ReadOnlySpan<double> rewards, int samplesPerImage)
    {
        if (samplesPerImage < 2)
        {
            throw new ArgumentOutOfRangeException(
                nameof(samplesPerImage), samplesPerImage, "The mean of the other samples needs at least 2 samples per image.");
        }
        if (rewards.Length % samplesPerImage != 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(samplesPerImage), samplesPerImage, $"{rewards.Length} rewards are not a whole number of images of {samplesPerImage} samples.");
        }
        var baselines = new double[rewards.Length];
        for (var first = 0; first < rewards.Length; first += samplesPerImage)
        {
            var group = rewards.Slice(first, samplesPerImage);
            var sum = 0.0;
            foreach (var reward in group) sum += reward;
            for (var s = 0; s < samplesPerImage; s++) baselines[first + s] = (sum - group[s]) / (samplesPerImage - 1);
        }
        return baselines;
    }

    private static void CheckPerCaption(Tensor values, long rows, string name)
    {
        if (values.dim() != 1 || values.size(0) != rows)
            throw new ArgumentException($"The {name} must be one value per caption, [{rows}], not [{Shape(values)}].", name);
    }

    private static string Shape(Tensor tensor) => string.Join(", ", tensor.shape);
}

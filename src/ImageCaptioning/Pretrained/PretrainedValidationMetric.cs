namespace ImageCaptioning.Pretrained;

/// <summary>What a <see cref="PretrainedFineTuner"/> monitors on the validation data for the best checkpoint and early stopping.</summary>
public enum PretrainedValidationMetric
{
    /// <summary>The teacher-forced validation loss (lower is better).</summary>
    Loss = 0,

    /// <summary>Corpus BLEU-4 of the greedy captions of the validation images against their captions (higher is better).</summary>
    Bleu4 = 1,

    /// <summary>Corpus CIDEr-D of the greedy captions of the validation images against their captions (higher is better).</summary>
    CiderD = 2,
}

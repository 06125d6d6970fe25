namespace ImageCaptioning.Pretrained;

/// <summary>Which of the image encoder's parameters fine-tuning updates (the decoder always trains).</summary>
public enum PretrainedEncoderTraining
{
    /// <summary>None: the encoder keeps the checkpoint's weights bit for bit.</summary>
    Frozen = 0,

    /// <summary>The last <see cref="PretrainedFineTuningOptions.EncoderLayers"/> transformer layers and the final layer norm after them; the embeddings and earlier layers stay frozen.</summary>
    LastLayers = 1,

    /// <summary>Every encoder parameter.</summary>
    All = 2,
}

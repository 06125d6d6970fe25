using ImageCaptioning.Modeling;

namespace ImageCaptioning.Training;

/// <summary>What the loss is computed on.</summary>
public enum LossMode
{
    /// <summary>
    /// Teacher forcing over the whole caption: inputs tokens[:-1], targets tokens[1:], one loss term per real
    /// target token; the output layer runs only on non-padded positions.
    /// </summary>
    FullSequence,

    /// <summary>
    /// The recipe's: each sample is a padded prefix and one next word; the loss is on the logits at the last
    /// non-pad position.
    /// </summary>
    Prefix,
}

/// <summary>Cross-entropy losses of a caption model, averaged over target tokens.</summary>
public static class CaptionLoss
{
    /// <summary>
    /// Full-sequence loss: <see cref="CaptionModel.Loss"/>. <paramref name="inputs"/> and <paramref name="targets"/>
    /// are [B, T] int64; positions whose target is the pad id do not count and are not projected to the vocabulary.
    /// </summary>
    public static Tensor FullSequence(CaptionModel model, Tensor features, Tensor inputs, Tensor targets, Tensor? featureIndex = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Loss(features, inputs, targets, featureIndex);
    }

    /// <summary>
    /// The recipe's prefix loss. <paramref name="prefixes"/> is [B, T] right-padded with the pad id,
    /// <paramref name="nextWords"/> is [B]. Only the last real position of each prefix is projected.
    /// </summary>
    public static Tensor Prefix(LstmCaptionModel model, Tensor features, Tensor prefixes, Tensor nextWords, Tensor? featureIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var pad = model.Options.PadId;
        var hidden = model.Hidden(features, prefixes, featureIndex);
        var last = prefixes.ne(pad).sum(1).sub(1).clamp(min: 0).to(ScalarType.Int64);
        var index = last.reshape(-1, 1, 1).expand(-1, 1, hidden.size(2));
        var logits = model.Project(hidden.gather(1, index).squeeze(1));
        return torch.nn.functional.cross_entropy(logits, nextWords, ignore_index: pad).MoveToOuterDisposeScope();
    }
}

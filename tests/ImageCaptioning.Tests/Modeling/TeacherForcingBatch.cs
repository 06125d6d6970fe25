namespace ImageCaptioning.Tests.Modeling;

/// <summary>Full-sequence training batches for the parity tests.</summary>
internal static class TeacherForcingBatch
{
    /// <summary>
    /// Inputs and targets [captions, length] for teacher forcing: each caption without its last token, and shifted by
    /// one, cut to <paramref name="length"/> and right-padded with <paramref name="pad"/>.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Shifted(IReadOnlyList<long[]> captions, int length, long pad = 0)
    {
        var inputs = new long[captions.Count * length];
        var targets = new long[captions.Count * length];
        Array.Fill(inputs, pad);
        Array.Fill(targets, pad);
        for (var b = 0; b < captions.Count; b++)
        {
            for (var t = 0; t < Math.Min(length, captions[b].Length - 1); t++)
            {
                inputs[b * length + t] = captions[b][t];
                targets[b * length + t] = captions[b][t + 1];
            }
        }
        return (torch.tensor(inputs, [captions.Count, length]), torch.tensor(targets, [captions.Count, length]));
    }
}

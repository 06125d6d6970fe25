namespace ImageCaptioning.Encoders;

/// <summary>The input check the encoders share: rows of transformed pixels, one square image each.</summary>
internal static class EncoderInput
{
    /// <summary>
    /// <paramref name="rows"/> <c>[N, 3·size·size]</c> as images <c>[N, 3, size, size]</c>, or an error that names
    /// the pixel features the encoder expects and what it got instead.
    /// </summary>
    public static Tensor Images(Tensor rows, int inputDimension, int size, string kind)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.ndim != 2 || rows.size(1) != inputDimension || !rows.is_floating_point())
            throw new ArgumentException(
                $"the {kind} encoder reads pixel rows [N, {inputDimension}] (3 × {size} × {size}, the features of a pixels-{size}x{size} extractor), got {rows.dtype} [{string.Join(", ", rows.shape)}]",
                nameof(rows));
        return rows.reshape(rows.size(0), 3, size, size);
    }
}

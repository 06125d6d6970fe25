namespace ImageCaptioning.Vision;

/// <summary>Where an extraction stands, reported after every batch (what the recipe's tqdm bar showed).</summary>
/// <param name="Done">Images extracted so far in this run.</param>
/// <param name="Total">Images this run extracts in all.</param>
/// <param name="Elapsed">Time since the run started.</param>
public readonly record struct ExtractionProgress(int Done, int Total, TimeSpan Elapsed)
{
    /// <summary>Images per second so far (decode included); 0 before the first batch.</summary>
    public double ImagesPerSecond => Done == 0 || Elapsed <= TimeSpan.Zero ? 0 : Done / Elapsed.TotalSeconds;

    /// <summary>Estimated time to finish at the rate so far; null before the first batch.</summary>
    public TimeSpan? EstimatedRemaining => ImagesPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / ImagesPerSecond) : null;

    /// <summary>Fraction done, in [0, 1].</summary>
    public double Fraction => Total == 0 ? 1 : (double)Done / Total;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Done}/{Total} images ({Fraction:P0}), {ImagesPerSecond:F1} images/s, ETA {(EstimatedRemaining is { } eta ? eta.ToString(@"hh\:mm\:ss") : "?")}";
}

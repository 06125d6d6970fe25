using System.Collections.ObjectModel;

namespace ImageCaptioning.Training;

/// <summary>
/// Sampled caption rows read once on the host, for self-critical training: how many steps of each row are real (up to
/// and including its first end token; every step when it has none), the caption each row carries for the reward, and
/// the step mask <see cref="SelfCriticalLoss"/> takes.
/// </summary>
/// <remarks>
/// A step is real when no end token came before it, whatever it holds: a pad id the model sampled before its end is a
/// choice the loss must weigh, so only the steps after the end are padding. That padding is checked, which catches a
/// wrong end id or a sampler that kept writing after a row ended.
/// </remarks>
public sealed class SelfCriticalSequences
{
    private readonly int[] lengths;

    private SelfCriticalSequences(int steps, int[] lengths, bool[] finished, int[][] captions)
    {
        Steps = steps;
        this.lengths = lengths;
        Lengths = Array.AsReadOnly(lengths);
        Finished = Array.AsReadOnly(finished);
        Captions = new ReadOnlyCollection<int[]>(captions);
    }

    /// <summary>The number of rows.</summary>
    public int Count => lengths.Length;

    /// <summary>The steps of every row, T.</summary>
    public int Steps { get; }

    /// <summary>For each row, its real steps: through its first end token, or <see cref="Steps"/> when it has none.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>For each row, whether it holds an end token.</summary>
    public IReadOnlyList<bool> Finished { get; }

    /// <summary>
    /// For each row, its tokens before the end token: the caption <see cref="Evaluation.CiderDReward"/> scores. New
    /// arrays, the caller's to keep.
    /// </summary>
    public IReadOnlyList<int[]> Captions { get; }

    /// <summary>Reads sampled rows.</summary>
    /// <param name="tokens">[N, T] int64 token ids, on any device: each row's sampled tokens, the end token where one was emitted, then the pad id.</param>
    /// <param name="endId">The end token's id.</param>
    /// <param name="padId">The id every step after a row's end token holds; may equal <paramref name="endId"/>.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="tokens"/> is not a 2-D int64 tensor, holds an id outside 0..int.MaxValue, or holds a token other
    /// than <paramref name="padId"/> after a row's end; the message names the row and step.
    /// </exception>
    public static SelfCriticalSequences Read(Tensor tokens, long endId, long padId)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64)
        {
            throw new ArgumentException(
                $"Sampled tokens must be a [N, T] int64 tensor, not a [{string.Join(", ", tokens.shape)}] {tokens.dtype} one.", nameof(tokens));
        }
        var rows = checked((int)tokens.size(0));
        var steps = checked((int)tokens.size(1));
        var values = tokens.ToArray<long>();

        var lengths = new int[rows];
        var finished = new bool[rows];
        var captions = new int[rows][];
        for (var row = 0; row < rows; row++)
        {
            var line = values.AsSpan(row * steps, steps);
            var end = line.IndexOf(endId);
            lengths[row] = end < 0 ? steps : end + 1;
            finished[row] = end >= 0;
            var caption = end < 0 ? line : line[..end];
            captions[row] = new int[caption.Length];
            for (var t = 0; t < caption.Length; t++)
            {
                if (caption[t] is < 0 or > int.MaxValue)
                    throw new ArgumentException($"Row {row} holds {caption[t]} at step {t}, which is not a token id.", nameof(tokens));
                captions[row][t] = (int)caption[t];
            }
            for (var t = lengths[row]; t < steps; t++)
            {
                if (line[t] != padId)
                {
                    throw new ArgumentException(
                        $"Row {row} holds token {line[t]} at step {t}, after its end token ({endId}) at step {end}; every step after the end must hold the pad id {padId}.",
                        nameof(tokens));
                }
            }
        }
        return new SelfCriticalSequences(steps, lengths, finished, captions);
    }

    /// <summary>A new [N, T] tensor: 1 at each row's real steps, 0 after them.</summary>
    /// <param name="device">Where it is made; the CPU when null.</param>
    /// <param name="dtype">Its element type, a floating-point one (the log-probabilities') or Bool.</param>
    public Tensor Mask(Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = torch.NewDisposeScope();
        var rowLengths = TensorSpan.Create<int>(lengths, [lengths.Length], device);
        var positions = torch.arange(Steps, dtype: ScalarType.Int32, device: device);
        return positions.unsqueeze(0).lt(rowLengths.unsqueeze(1)).to(dtype).MoveToOuterDisposeScope();
    }
}

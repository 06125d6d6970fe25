using System.Text;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>A key present on both sides whose shapes differ.</summary>
/// <param name="Key">The state_dict key.</param>
/// <param name="ExpectedShape">The shape the module needs.</param>
/// <param name="ActualShape">The shape that was loaded.</param>
public sealed record ShapeMismatch(string Key, IReadOnlyList<long> ExpectedShape, IReadOnlyList<long> ActualShape);

/// <summary>How a loaded state_dict differs from what a module expects (PyTorch's <c>_IncompatibleKeys</c>, plus shapes).</summary>
public sealed class StateDictComparison
{
    internal StateDictComparison(IReadOnlyList<string> missingKeys, IReadOnlyList<string> unexpectedKeys, IReadOnlyList<ShapeMismatch> shapeMismatches)
    {
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>Keys the module expects that the state_dict lacks, in the module's order.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Keys of the state_dict the module does not have, in the state_dict's order.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys on both sides with different shapes, in the module's order.</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Whether every key matches with its shape and nothing is missing or extra.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0;
}

/// <summary>
/// A state_dict does not fit a module: keys are missing or unexpected (strict loading) or shapes differ. The message
/// lists every problem, as PyTorch's <c>load_state_dict</c> does.
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    internal StateDictMismatchException(StateDictComparison comparison, bool strict, string? source)
        : base(Describe(comparison, strict, source))
    {
        MissingKeys = strict ? comparison.MissingKeys : [];
        UnexpectedKeys = strict ? comparison.UnexpectedKeys : [];
        ShapeMismatches = comparison.ShapeMismatches;
        SourceName = source;
    }

    /// <summary>Missing keys (listed only when loading is strict).</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Unexpected keys (listed only when loading is strict).</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys whose shapes differ (always an error).</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Where the state_dict came from (a file, a module name), when the caller said.</summary>
    public string? SourceName { get; }

    private static string Describe(StateDictComparison comparison, bool strict, string? source)
    {
        var text = new StringBuilder("Error(s) in loading state_dict");
        if (source is not null) text.Append(" from ").Append(source);
        text.Append(':');
        if (strict && comparison.MissingKeys.Count > 0)
            text.Append("\n\tMissing key(s) in state_dict: ").AppendJoin(", ", comparison.MissingKeys.Select(k => $"\"{k}\"")).Append('.');
        if (strict && comparison.UnexpectedKeys.Count > 0)
            text.Append("\n\tUnexpected key(s) in state_dict: ").AppendJoin(", ", comparison.UnexpectedKeys.Select(k => $"\"{k}\"")).Append('.');
        foreach (var mismatch in comparison.ShapeMismatches)
            text.Append("\n\tsize mismatch for ").Append(mismatch.Key)
                .Append(": copying a param with shape [").AppendJoin(", ", mismatch.ActualShape)
                .Append("] from checkpoint, the shape in current model is [").AppendJoin(", ", mismatch.ExpectedShape).Append("].");
        return text.ToString();
    }
}

/// <summary>
/// Compares the keys and shapes a module expects with a loaded state_dict. <c>Module.load_state_dict</c> uses it
/// before copying anything, so a bad file leaves the module untouched.
/// </summary>
public static class StateDictValidation
{
    /// <summary>Lists missing, unexpected and shape-mismatched keys without judging them.</summary>
    /// <exception cref="ArgumentException">A key is expected twice.</exception>
    public static StateDictComparison Compare(IEnumerable<(string Key, long[] Shape)> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var expectedKeys = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        foreach (var (key, shape) in expected)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(expected));
            ArgumentNullException.ThrowIfNull(shape, nameof(expected));
            if (!expectedKeys.Add(key)) throw new ArgumentException($"the key '{key}' is expected twice", nameof(expected));
            if (!actual.TryGetValue(key, out var tensor))
            {
                missing.Add(key);
                continue;
            }
            var actualShape = tensor.shape;
            if (!actualShape.AsSpan().SequenceEqual(shape))
                mismatches.Add(new ShapeMismatch(key, shape.ToArray(), actualShape));
        }
        var unexpected = actual.Keys.Where(k => !expectedKeys.Contains(k)).ToList();
        return new StateDictComparison(missing, unexpected, mismatches);
    }

    /// <summary>
    /// Compares as <see cref="Compare"/> and throws when the state_dict cannot be loaded: on any shape mismatch, and
    /// (when <paramref name="strict"/>) on any missing or unexpected key. Otherwise returns the comparison, whose
    /// missing and unexpected keys a non-strict caller may report.
    /// </summary>
    /// <param name="expected">The module's keys and shapes, in its order.</param>
    /// <param name="actual">The loaded state_dict.</param>
    /// <param name="strict">Whether missing and unexpected keys are errors (PyTorch's default).</param>
    /// <param name="source">Where the state_dict came from, for the message (a file path, say).</param>
    /// <exception cref="StateDictMismatchException">The state_dict does not fit; the message lists every problem.</exception>
    public static StateDictComparison Check(IEnumerable<(string Key, long[] Shape)> expected, IReadOnlyDictionary<string, Tensor> actual,
        bool strict = true, string? source = null)
    {
        var comparison = Compare(expected, actual);
        if (comparison.ShapeMismatches.Count > 0 || (strict && (comparison.MissingKeys.Count > 0 || comparison.UnexpectedKeys.Count > 0)))
            throw new StateDictMismatchException(comparison, strict, source);
        return comparison;
    }
}

using System.Runtime.InteropServices;

namespace ImageCaptioning.Evaluation;

/// <summary>
/// A window over an interned sentence. Token ids come from one <see cref="TokenInterner"/>, so two n-grams are equal
/// exactly when their token strings are ordinally equal, as NLTK's and coco-caption's tuple keys are.
/// </summary>
internal readonly struct NGram : IEquatable<NGram>
{
    private readonly int[] _sentence;
    private readonly int _start;

    public NGram(int[] sentence, int start, int length)
    {
        _sentence = sentence;
        _start = start;
        Length = length;
    }

    /// <summary>The order of the n-gram (1 for unigrams).</summary>
    public int Length { get; }

    public ReadOnlySpan<int> Tokens => _sentence.AsSpan(_start, Length);

    public bool Equals(NGram other) => Length == other.Length && Tokens.SequenceEqual(other.Tokens);

    public override bool Equals(object? obj) => obj is NGram other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var token in Tokens) hash.Add(token);
        return hash.ToHashCode();
    }

    /// <summary>
    /// Counts every n-gram of orders 1..<paramref name="maxOrder"/>, lower orders first and left to right within an
    /// order: the insertion order of coco-caption's <c>precook</c>, which fixes the order floating-point sums run in.
    /// </summary>
    public static Dictionary<NGram, int> Count(int[] sentence, int maxOrder)
    {
        var counts = new Dictionary<NGram, int>();
        CountInto(sentence, maxOrder, counts);
        return counts;
    }

    /// <summary>
    /// <see cref="Count"/> into a caller's dictionary, which must be empty for the order to be precook's: scoring
    /// many captions reuses one dictionary instead of allocating one per caption.
    /// </summary>
    public static void CountInto(int[] sentence, int maxOrder, Dictionary<NGram, int> counts)
    {
        for (var order = 1; order <= maxOrder; order++)
        {
            for (var start = 0; start + order <= sentence.Length; start++)
                CollectionsMarshal.GetValueRefOrAddDefault(counts, new NGram(sentence, start, order), out _)++;
        }
    }
}

/// <summary>Maps token strings to dense ids (ordinal comparison) so n-grams compare as integer spans.</summary>
internal sealed class TokenInterner
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public int[] Intern(IReadOnlyList<string> tokens)
    {
        var ids = new int[tokens.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, tokens[i], out var exists);
            if (!exists) id = _ids.Count - 1;
            ids[i] = id;
        }
        return ids;
    }
}

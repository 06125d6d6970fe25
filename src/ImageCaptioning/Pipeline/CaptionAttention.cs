using System.Globalization;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// Where an attention model looked while it generated a caption: for each generated word, one weight per cell of the
/// encoder's <see cref="GridRows"/> × <see cref="GridColumns"/> feature grid, which covers the whole image. Immutable:
/// the constructor validates and copies its input.
/// </summary>
public sealed record CaptionAttention
{
    /// <summary>Validates and copies one caption's attention.</summary>
    /// <param name="words">The generated words, in order; none null.</param>
    /// <param name="gridRows">Rows of the feature grid, at least 1.</param>
    /// <param name="gridColumns">Columns of the feature grid, at least 1.</param>
    /// <param name="weights">
    /// One array per word: <c>gridRows * gridColumns</c> finite, non-negative weights in row-major order (row 0 is
    /// the top of the image). A softmax's weights sum to 1, but any scale is accepted: the report compares a word's
    /// cells with each other only.
    /// </param>
    /// <exception cref="ArgumentNullException">An argument, a word or a word's weights is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A grid dimension is below 1.</exception>
    /// <exception cref="ArgumentException">
    /// The weights are not one array per word, or a word's array has the wrong length or a negative or non-finite
    /// weight; the message names the word's index.
    /// </exception>
    public CaptionAttention(IReadOnlyList<string> words, int gridRows, int gridColumns, IReadOnlyList<IReadOnlyList<float>> weights)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridColumns, 1);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != words.Count)
            throw new ArgumentException($"attention needs one weight array per word: {words.Count} words but {weights.Count} arrays", nameof(weights));
        var cells = (long)gridRows * gridColumns;
        if (cells > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(gridRows), $"a {gridRows}x{gridColumns} grid has more cells than an array holds");

        var copiedWords = new string[words.Count];
        var copiedWeights = new IReadOnlyList<float>[words.Count];
        for (var i = 0; i < words.Count; i++)
        {
            copiedWords[i] = words[i] ?? throw new ArgumentNullException(nameof(words), $"word {i} is null");
            var row = weights[i] ?? throw new ArgumentNullException(nameof(weights), $"the weights of word {i} ('{copiedWords[i]}') are null");
            if (row.Count != cells)
                throw new ArgumentException($"word {i} ('{copiedWords[i]}') has {row.Count} weights but a {gridRows}x{gridColumns} grid has {cells} cells", nameof(weights));
            var copy = new float[cells];
            for (var j = 0; j < copy.Length; j++)
            {
                var value = row[j];
                if (!float.IsFinite(value) || value < 0)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"word {i} ('{copiedWords[i]}') has weight {value} at cell {j}: weights must be finite and non-negative"), nameof(weights));
                copy[j] = value;
            }
            copiedWeights[i] = Array.AsReadOnly(copy);
        }
        Words = Array.AsReadOnly(copiedWords);
        GridRows = gridRows;
        GridColumns = gridColumns;
        Weights = Array.AsReadOnly(copiedWeights);
    }

    /// <summary>The generated words, in order.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Rows of the feature grid.</summary>
    public int GridRows { get; }

    /// <summary>Columns of the feature grid.</summary>
    public int GridColumns { get; }

    /// <summary>For each word, its <see cref="GridRows"/> × <see cref="GridColumns"/> weights in row-major order.</summary>
    public IReadOnlyList<IReadOnlyList<float>> Weights { get; }
}

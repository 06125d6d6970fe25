namespace ImageCaptioning.Evaluation;

/// <summary>How <see cref="EvaluationTokenizer"/> turns a caption into the word tokens that metrics compare.</summary>
public sealed record EvaluationTokenizerOptions
{
    /// <summary>The options used when none are given.</summary>
    public static EvaluationTokenizerOptions Default { get; } = new();

    /// <summary>Compare captions in lower case (invariant culture); true by default.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>
    /// Strip punctuation from both ends of every word ("dog." is "dog") and drop words that are only punctuation;
    /// true by default. Symbols such as '&lt;' are not punctuation, so "&lt;unk&gt;" stays a word.
    /// </summary>
    public bool TrimPunctuation { get; init; } = true;

    /// <summary>
    /// The start and end marks of the training vocabulary, removed wherever they occur (case-insensitive) because
    /// the references of the metrics carry none. By default the marks of the common recipes: &lt;start&gt;, &lt;end&gt;,
    /// &lt;sos&gt;, &lt;eos&gt;, &lt;bos&gt;, startseq and endseq.
    /// </summary>
    public IReadOnlyList<string> SequenceMarks
    {
        get;
        init
        {
            OptionGuard.NotNull(value);
            for (var i = 0; i < value.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(value[i]) || value[i].Any(char.IsWhiteSpace))
                    throw new ArgumentException(
                        $"Sequence mark {i} ('{value[i]}') must be a single non-empty word: captions are split on white space before marks are removed.",
                        nameof(SequenceMarks));
            }
            field = [.. value];
        }
    } = ["<start>", "<end>", "<sos>", "<eos>", "<bos>", "startseq", "endseq"];
}

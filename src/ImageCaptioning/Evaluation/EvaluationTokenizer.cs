namespace ImageCaptioning.Evaluation;

/// <summary>
/// Splits captions into the word tokens BLEU and CIDEr-D compare: white-space separated words, lower-cased, with
/// punctuation trimmed and the start/end marks removed (see <see cref="EvaluationTokenizerOptions"/>).
/// </summary>
public sealed class EvaluationTokenizer
{
    private readonly HashSet<string> _sequenceMarks;

    /// <summary>Creates a tokenizer.</summary>
    /// <param name="options">The tokenisation rules; <see cref="EvaluationTokenizerOptions.Default"/> when null.</param>
    public EvaluationTokenizer(EvaluationTokenizerOptions? options = null)
    {
        Options = options ?? EvaluationTokenizerOptions.Default;
        _sequenceMarks = new HashSet<string>(Options.SequenceMarks, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The tokenizer with the default options.</summary>
    public static EvaluationTokenizer Default { get; } = new();

    /// <summary>The rules this tokenizer applies.</summary>
    public EvaluationTokenizerOptions Options { get; }

    /// <summary>The word tokens of <paramref name="caption"/>.</summary>
    public string[] Tokenize(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var words = caption.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var tokens = new List<string>(words.Length);
        foreach (var word in words)
        {
            if (_sequenceMarks.Contains(word)) continue;
            var token = Options.TrimPunctuation ? TrimPunctuation(word) : word;
            // A mark may arrive with punctuation attached ("<eos>.").
            if (token.Length == 0 || _sequenceMarks.Contains(token)) continue;
            tokens.Add(Options.Lowercase ? token.ToLowerInvariant() : token);
        }
        return [.. tokens];
    }

    private static string TrimPunctuation(string word)
    {
        var start = 0;
        var end = word.Length;
        while (start < end && char.IsPunctuation(word[start])) start++;
        while (end > start && char.IsPunctuation(word[end - 1])) end--;
        return start == 0 && end == word.Length ? word : word[start..end];
    }
}

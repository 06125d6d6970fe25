namespace ImageCaptioning.Evaluation;

/// <summary>
/// A validated corpus with every token interned once, shared by BLEU and CIDEr-D so a combined evaluation tokenises,
/// checks and interns each caption a single time.
/// </summary>
internal sealed class TokenizedCorpus
{
    private TokenizedCorpus(int[][] hypotheses, int[][][] references)
    {
        Hypotheses = hypotheses;
        References = references;
    }

    public int[][] Hypotheses { get; }

    public int[][][] References { get; }

    public int Count => Hypotheses.Length;

    /// <param name="hypotheses">One token list per item.</param>
    /// <param name="references">One non-empty list of reference token lists per item.</param>
    /// <param name="describeItem">Names item i in error messages ("hypothesis 3", "image '1000268201'").</param>
    public static TokenizedCorpus Create(
        IReadOnlyList<IReadOnlyList<string>> hypotheses,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references,
        Func<int, string> describeItem)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        if (hypotheses.Count != references.Count)
            EvaluationThrowHelper.ThrowCountMismatch(hypotheses.Count, references.Count, nameof(references));

        var interner = new TokenInterner();
        var internedHypotheses = new int[hypotheses.Count][];
        var internedReferences = new int[hypotheses.Count][][];
        for (var item = 0; item < hypotheses.Count; item++)
        {
            var hypothesis = hypotheses[item];
            if (hypothesis is null)
                EvaluationThrowHelper.ThrowNullItem($"The hypothesis of {describeItem(item)}", nameof(hypotheses));
            CheckTokens(hypothesis, () => $"the hypothesis of {describeItem(item)}", nameof(hypotheses));
            internedHypotheses[item] = interner.Intern(hypothesis);

            var itemReferences = references[item];
            if (itemReferences is null)
                EvaluationThrowHelper.ThrowNullItem($"The reference list of {describeItem(item)}", nameof(references));
            if (itemReferences.Count == 0)
                EvaluationThrowHelper.ThrowNoReferences(describeItem(item), nameof(references));
            var interned = new int[itemReferences.Count][];
            for (var r = 0; r < interned.Length; r++)
            {
                var reference = itemReferences[r];
                if (reference is null)
                    EvaluationThrowHelper.ThrowNullItem($"Reference {r} of {describeItem(item)}", nameof(references));
                CheckTokens(reference, () => $"reference {r} of {describeItem(item)}", nameof(references));
                interned[r] = interner.Intern(reference);
            }
            internedReferences[item] = interned;
        }
        return new TokenizedCorpus(internedHypotheses, internedReferences);
    }

    private static void CheckTokens(IReadOnlyList<string> tokens, Func<string> describeSentence, string parameterName)
    {
        for (var t = 0; t < tokens.Count; t++)
        {
            if (tokens[t] is null)
                EvaluationThrowHelper.ThrowNullItem($"Token {t} of {describeSentence()}", parameterName);
        }
    }
}

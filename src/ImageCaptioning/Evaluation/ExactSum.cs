namespace ImageCaptioning.Evaluation;

/// <summary>
/// The correctly rounded sum of doubles, as Python's <c>math.fsum</c> returns it (Shewchuk's partials with CPython's
/// half-even fix-up). NLTK sums the weighted log precisions with <c>math.fsum</c>; a naive left-to-right sum can
/// differ from it in the last bit.
/// </summary>
internal static class ExactSum
{
    public static double Sum(ReadOnlySpan<double> values)
    {
        // Non-overlapping partials in increasing magnitude; their exact sum is the exact sum of the values so far.
        var partials = new List<double>(values.Length);
        foreach (var value in values)
        {
            if (!double.IsFinite(value))
                throw new ArgumentException($"cannot sum the non-finite value {value} exactly", nameof(values));
            var x = value;
            var kept = 0;
            for (var j = 0; j < partials.Count; j++)
            {
                var y = partials[j];
                if (Math.Abs(x) < Math.Abs(y)) (x, y) = (y, x);
                var high = x + y;
                var low = y - (high - x);
                if (low != 0.0) partials[kept++] = low;
                x = high;
            }
            partials.RemoveRange(kept, partials.Count - kept);
            if (x != 0.0) partials.Add(x);
        }

        var n = partials.Count;
        if (n == 0) return 0.0;
        var sum = partials[--n];
        var remainder = 0.0;
        while (n > 0)
        {
            var x = sum;
            var y = partials[--n];
            sum = x + y;
            remainder = y - (sum - x);
            if (remainder != 0.0) break;
        }

        // Round half-even across partials: a remainder of exactly half an ulp is pushed the right way by the sign of
        // the next partial down.
        if (n > 0 && ((remainder < 0.0 && partials[n - 1] < 0.0) || (remainder > 0.0 && partials[n - 1] > 0.0)))
        {
            var doubled = remainder * 2.0;
            var candidate = sum + doubled;
            if (doubled == candidate - sum) sum = candidate;
        }
        return sum;
    }
}

using System.Runtime.CompilerServices;

namespace ImageCaptioning.Evaluation;

/// <summary>The n-gram orders BLEU and CIDEr-D accept: one rule for both metrics' <c>MaxOrder</c>.</summary>
internal static class NGramOrder
{
    /// <summary>The highest order: n-gram counting cost grows with it, and no published variant goes past 4.</summary>
    public const int MaxSupported = 16;

    /// <summary>A <c>MaxOrder</c> option between 1 and <see cref="MaxSupported"/>.</summary>
    public static int Check(int value, [CallerMemberName] string option = "") =>
        OptionGuard.Require(value, value is >= 1 and <= MaxSupported, $"must be between 1 and {MaxSupported}", option);
}

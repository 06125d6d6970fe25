using System.Runtime.CompilerServices;

namespace ImageCaptioning;

/// <summary>
/// The library's one way for an options record to refuse a value: every option is checked in its <c>init</c>
/// accessor through these, so a bad value fails on the line that sets it (also in a <c>with</c> expression and when
/// read from JSON), and the exception names the option. How settings combine is checked where they are combined.
/// </summary>
internal static class OptionGuard
{
    /// <summary><paramref name="value"/> when it is <paramref name="valid"/>; else an exception saying "<c>Option requirement</c>".</summary>
    public static T Require<T>(T value, bool valid, string requirement, [CallerMemberName] string option = "") =>
        valid ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} {requirement}");

    /// <summary>An integer option of at least <paramref name="minimum"/>.</summary>
    public static int AtLeast(int value, int minimum, [CallerMemberName] string option = "") =>
        Require(value, value >= minimum, $"must be at least {minimum}", option);

    /// <summary>An integer option of at least <paramref name="minimum"/>.</summary>
    public static long AtLeast(long value, long minimum, [CallerMemberName] string option = "") =>
        Require(value, value >= minimum, $"must be at least {minimum}", option);

    /// <summary>A number option that is positive and finite.</summary>
    public static double Positive(double value, [CallerMemberName] string option = "") =>
        Require(value, double.IsFinite(value) && value > 0, "must be positive and finite", option);

    /// <summary>An enum option holding one of its named values.</summary>
    public static TEnum Defined<TEnum>(TEnum value, [CallerMemberName] string option = "") where TEnum : struct, Enum =>
        Require(value, Enum.IsDefined(value), $"must be one of {string.Join(", ", Enum.GetNames<TEnum>())}", option);

    /// <summary>An option that must be set.</summary>
    public static T NotNull<T>(T? value, [CallerMemberName] string option = "") where T : class =>
        value ?? throw new ArgumentNullException(option, $"{option} must not be null");
}

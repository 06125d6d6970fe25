namespace ImageCaptioning.Testing.Fuzzing;

/// <summary>
/// How many damaged files each fuzz test reads, and from which seed. CI reads the fixed defaults; the long run
/// (scripts/fuzz.sh) sets IMAGECAPTIONING_FUZZ_CASES and IMAGECAPTIONING_FUZZ_SEED.
/// </summary>
internal static class FuzzSettings
{
    /// <summary>NUnit category of the fuzz tests, so the long run can pick them out.</summary>
    public const string Category = "Fuzz";

    public static int CasesPerKind { get; } = Read("IMAGECAPTIONING_FUZZ_CASES", 300);

    public static int Seed { get; } = Read("IMAGECAPTIONING_FUZZ_SEED", 20261207);

    private static int Read(string variable, int fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.TryParse(text, out var value) && value > 0 ? value : throw new InvalidOperationException($"{variable}='{text}' is not a positive integer")
            : fallback;
}

using NUnit.Framework;

namespace ImageCaptioning.Testing.Fuzzing;

/// <summary>What reading a damaged file came to.</summary>
internal enum FuzzOutcome
{
    /// <summary>The reader threw one of its documented exceptions, naming what is wrong.</summary>
    CleanError,

    /// <summary>An integrity check (digest, checksum, CRC) caught the damage.</summary>
    RefusedByCheck,

    /// <summary>The file loaded and gave the same values as the original (the damage fell where nothing is read).</summary>
    Identical,

    /// <summary>The file loaded with different values: silent corruption.</summary>
    LoadedDifferent,
}

/// <summary>
/// Runs a reader over <see cref="FileMutations"/> cases and counts the outcomes. An exception the reader does not
/// document (a NullReferenceException, an IndexOutOfRangeException, ...) fails the case at once, and
/// <see cref="AssertNothingLoadedDifferent"/> fails on silent corruption, unless the format has no check that could
/// catch it.
/// </summary>
internal sealed class FuzzTally(string kind)
{
    private readonly Dictionary<FuzzOutcome, int> counts = Enum.GetValues<FuzzOutcome>().ToDictionary(o => o, _ => 0);
    private readonly List<string> different = [];

    public string Kind { get; } = kind;

    public int this[FuzzOutcome outcome] => counts[outcome];

    public int Total => counts.Values.Sum();

    /// <summary>
    /// Reads one case with <paramref name="read"/>, which returns the outcome of a successful load (identical or
    /// different). Exceptions of the types in <paramref name="clean"/> count as clean errors, or as refused by a check
    /// where <paramref name="isCheck"/> says the message is an integrity check's.
    /// </summary>
    public FuzzOutcome Run(FuzzCase fuzzCase, Func<FuzzCase, FuzzOutcome> read, Type[] clean, Func<Exception, bool>? isCheck = null)
    {
        FuzzOutcome outcome;
        try
        {
            outcome = read(fuzzCase);
        }
        catch (Exception e) when (clean.Any(t => t.IsInstanceOfType(e)))
        {
            if (string.IsNullOrWhiteSpace(e.Message)) Assert.Fail($"{Kind} {fuzzCase}: {e.GetType().Name} without a message");
            outcome = isCheck?.Invoke(e) == true ? FuzzOutcome.RefusedByCheck : FuzzOutcome.CleanError;
        }
        catch (Exception e) when (e is not ResultStateException)
        {
            Assert.Fail($"{Kind} {fuzzCase}: undocumented {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
            throw;
        }
        counts[outcome]++;
        if (outcome == FuzzOutcome.LoadedDifferent) different.Add(fuzzCase.ToString());
        return outcome;
    }

    /// <summary>Fails when any case loaded with different values, listing the first few.</summary>
    public void AssertNothingLoadedDifferent() =>
        Assert.That(different, Is.Empty, $"{Kind}: {different.Count} damaged files loaded with different values ({Summary}); first: {string.Join("; ", different.Take(5))}");

    /// <summary>
    /// Writes the counts to the test log, and appends them as one tab-separated line to the file named by
    /// IMAGECAPTIONING_FUZZ_REPORT where set (the long run's table).
    /// </summary>
    public void Report()
    {
        TestContext.Progress.WriteLine($"fuzz {Kind}: {Summary}");
        if (Environment.GetEnvironmentVariable("IMAGECAPTIONING_FUZZ_REPORT") is { Length: > 0 } report)
            File.AppendAllText(report, $"{Kind}\t{Total}\t{counts[FuzzOutcome.CleanError]}\t{counts[FuzzOutcome.RefusedByCheck]}\t{counts[FuzzOutcome.Identical]}\t{counts[FuzzOutcome.LoadedDifferent]}\n");
    }

    public string Summary =>
        $"{Total} cases: {counts[FuzzOutcome.CleanError]} clean errors, {counts[FuzzOutcome.RefusedByCheck]} refused by a check, " +
        $"{counts[FuzzOutcome.Identical]} identical, {counts[FuzzOutcome.LoadedDifferent]} loaded different";
}

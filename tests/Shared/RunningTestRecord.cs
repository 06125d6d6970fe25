using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: ImageCaptioning.Testing.RunningTestRecord]

namespace ImageCaptioning.Testing;

/// <summary>
/// Appends "started NAME" and "ended NAME" lines, as each test starts and ends, to the file that
/// IMAGECAPTIONING_TEST_RECORD names (scripts/run-tests.sh sets it), so that when a native fault kills the test host
/// the script names the test that was running: the one that started and never ended. VSTest's blame collector names
/// the last test whose start reached it through the host's message queue, and a fault right after a test starts
/// outruns that queue (tried: it named the test before). Each line is written and closed before the test goes on.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
internal sealed class RunningTestRecordAttribute : Attribute, ITestAction
{
    public const string Variable = "IMAGECAPTIONING_TEST_RECORD";

    private static readonly string? Path = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;
    private static readonly Lock Gate = new();

    public ActionTargets Targets => ActionTargets.Test;

    public void BeforeTest(ITest test) => Append("started", test);

    public void AfterTest(ITest test) => Append("ended", test);

    private static void Append(string what, ITest test)
    {
        if (Path is null) return;
        lock (Gate) File.AppendAllText(Path, $"{what} {test.FullName}\n");
    }
}

using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// A test host killed by a signal, on purpose: how scripts/run-tests.sh's crash report is checked (<see cref="RunTestsScriptTests"/>). With
/// IMAGECAPTIONING_TEST_CRASH=SIGFPE (or SIGSEGV, SIGABRT, ...) in the environment of <c>dotnet test</c>, this test
/// sends that signal to its own test host, as a fault inside oneDNN would; the script must name this test and the
/// signal, count it failed and run the other test assemblies. Without the variable it is ignored: one of the skips
/// of every run.
/// </summary>
[TestFixture]
public sealed class DeliberateCrashTests
{
    public const string Variable = "IMAGECAPTIONING_TEST_CRASH";

    [Test]
    public void TheTestHostDiesOfTheSignalTheEnvironmentNames()
    {
        var signal = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(signal))
            Assert.Ignore($"crashes the test host only when {Variable} names a signal (scripts/run-tests.sh's crash report is checked with it)");
        Signals.Raise(signal);
    }
}

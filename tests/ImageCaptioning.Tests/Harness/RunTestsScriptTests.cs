using System.Text.RegularExpressions;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// scripts/run-tests.sh, the CI entry, when a test host dies of a native fault: it runs only
/// <see cref="DeliberateCrashTests"/> with <see cref="DeliberateCrashTests.Variable"/> set, so that host is killed by
/// the signal as a fault inside oneDNN would kill it.
/// </summary>
[TestFixture]
public sealed class RunTestsScriptTests
{
    [Test]
    public void ADeadTestHostIsNamedWithItsSignalCountedFailedAndTheOtherProjectsStillRun()
    {
        var script = Path.Combine(DotnetCommand.RepositoryRoot, "scripts", "run-tests.sh");
        var run = DotnetCommand.RunProcess("bash",
            [script, "-c", DotnetCommand.Configuration, "--no-build", "--filter", $"FullyQualifiedName~{nameof(DeliberateCrashTests)}"],
            TimeSpan.FromMinutes(5),
            environment: new Dictionary<string, string?> { [DeliberateCrashTests.Variable] = "SIGFPE" });

        Assert.That(run.ExitCode, Is.EqualTo(1), run.Transcript);
        var crashed = $"{typeof(DeliberateCrashTests).FullName}.{nameof(DeliberateCrashTests.TheTestHostDiesOfTheSignalTheEnvironmentNames)}";
        Assert.That(run.StandardOutput, Does.Contain(
            $"pass 1: ImageCaptioning.Tests: 0 passed, 0 failed, 0 skipped; CRASHED: the test host was killed by SIGFPE (exit code 136) while running {crashed} (counted as 1 failed)"),
            run.Transcript);
        // The other test project and the second pass still ran after the dead host.
        Assert.That(run.StandardOutput, Does.Contain("pass 1: ImageCaptioning.Torch.Tests:"), run.Transcript);
        Assert.That(run.StandardOutput, Does.Contain("pass 2 ONEDNN_MAX_CPU_ISA=AVX2 DOTNET_EnableAVX512F=0: ImageCaptioning.Tests:"), run.Transcript);
        var last = run.StandardOutput.TrimEnd().Split('\n')[^1];
        Assert.That(Regex.IsMatch(last, @"^\d+ passed, [1-9]\d* failed, \d+ skipped$"), Is.True, $"last line: {last}\n{run.Transcript}");
    }
}

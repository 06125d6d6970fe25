using ImageCaptioning.Tests.Samples;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// ChildProcess runs a static method in a fresh process of this test assembly: its arguments and environment
/// arrive, a failed assertion and a death by signal come back as a failed test that says what happened.
/// </summary>
[TestFixture]
public sealed class ChildProcessTests
{
    [Test]
    public void TheMethodGetsItsArgumentsAndTheEnvironment()
    {
        var child = ChildProcess.Run(typeof(ChildProcessTests), nameof(PrintArgumentsAndVariable),
            ["a b", 7, 0.25, ImageResizeMode.ShorterSide], new Dictionary<string, string?> { ["IMAGECAPTIONING_CHILD_TEST"] = "set for the child" });

        child.AssertSucceeded();
        Assert.That(child.StandardOutput, Does.Contain("[a b] 7 0.25 ShorterSide: set for the child"), child.Transcript);
        Assert.That(Environment.GetEnvironmentVariable("IMAGECAPTIONING_CHILD_TEST"), Is.Null, "the parent's environment is untouched");
    }

    [Test]
    public void AFailedAssertionFailsTheParentWithItsMessage()
    {
        var child = ChildProcess.Run(typeof(ChildProcessTests), nameof(FailAnAssertion));

        Assert.That((child.ExitCode, child.Signal), Is.EqualTo((1, (string?)null)), child.Transcript);
        var failure = Assert.Throws<AssertionException>(() => child.AssertSucceeded())!;
        Assert.That(failure.Message, Does.Contain("exited with 1").And.Contain("the child's own check").And.Contain("Expected: 3"));
    }

    // SIGFPE is what oneDNN raised on the VM without cache sizes; SIGSEGV and SIGABRT are the other native deaths.
    [TestCase("SIGFPE", 136)]
    [TestCase("SIGSEGV", 139)]
    [TestCase("SIGABRT", 134)]
    public void ADeathBySignalIsReportedByName(string signal, int exitCode)
    {
        var child = ChildProcess.Run(typeof(ChildProcessTests), nameof(Die), [signal]);

        Assert.That((child.ExitCode, child.Signal), Is.EqualTo((exitCode, signal)), child.Transcript);
        var failure = Assert.Throws<AssertionException>(() => child.AssertSucceeded())!;
        Assert.That(failure.Message, Does.Contain($"was killed by {signal} (exit code {exitCode})").And.Contain("about to die"));
    }

    [Test]
    public void LibTorchReadsTheChildsEnvironmentAsItLoads()
    {
        // oneDNN reads ONEDNN_VERBOSE once, when libtorch first uses it: only a process started with it set prints.
        var verbose = ChildProcess.Run(typeof(ChildProcessTests), nameof(Convolve), [3, 32], new Dictionary<string, string?> { ["ONEDNN_VERBOSE"] = "1" });
        var quiet = ChildProcess.Run(typeof(ChildProcessTests), nameof(Convolve), [3, 32], new Dictionary<string, string?> { ["ONEDNN_VERBOSE"] = null });

        verbose.AssertSucceeded();
        quiet.AssertSucceeded();
        Assert.That(PrimitivesRun(verbose), Has.Some.Contains(",convolution,"), verbose.Transcript);
        Assert.That(quiet.StandardOutput, Does.Not.Contain("onednn_verbose"), quiet.Transcript);
    }

    [Test]
    public void OneDnnMaxCpuIsaCapsTheKernelsOfTheChild()
    {
        // What the second pass of scripts/run-tests.sh relies on: with the cap, no AVX-512 kernel runs, whatever the CPU.
        var capped = ChildProcess.Run(typeof(ChildProcessTests), nameof(Convolve), [3, 32],
            new Dictionary<string, string?> { ["ONEDNN_VERBOSE"] = "1", ["ONEDNN_MAX_CPU_ISA"] = "AVX2" });

        capped.AssertSucceeded();
        var primitives = PrimitivesRun(capped);
        Assert.That(primitives, Has.Some.Contains(",convolution,"), capped.Transcript);
        Assert.That(primitives, Has.None.Contains("avx512"), capped.Transcript);
    }

    [Test]
    public void AMethodThatIsNotThereFailsInTheParent()
    {
        var exception = Assert.Throws<ArgumentException>(() => ChildProcess.Run(typeof(ChildProcessTests), "NoSuchMethod"))!;
        Assert.That(exception.Message, Does.Contain("has no static method 'NoSuchMethod'"));
        Assert.Throws<ArgumentException>(() => ChildProcess.Run(typeof(string), nameof(string.Join)));
    }

    /// <summary>The primitives oneDNN's verbose mode says it executed ("onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx2,...").</summary>
    private static IEnumerable<string> PrimitivesRun(CommandResult child) =>
        child.StandardOutput.Split('\n').Where(line => line.StartsWith("onednn_verbose,", StringComparison.Ordinal) && line.Contains(",primitive,exec,", StringComparison.Ordinal));

    private static void PrintArgumentsAndVariable(string text, int count, double fraction, ImageResizeMode mode) =>
        Console.WriteLine($"[{text}] {count} {fraction} {mode}: {Environment.GetEnvironmentVariable("IMAGECAPTIONING_CHILD_TEST")}");

    private static void FailAnAssertion() => Assert.That(1 + 1, Is.EqualTo(3), "the child's own check");

    private static void Die(string signal)
    {
        Console.Error.WriteLine("about to die");
        Signals.Raise(signal);
    }

    private static void Convolve(int channels, int size)
    {
        using var images = torch.ones(2, channels, size, size);
        using var weight = torch.ones(channels, channels, 3, 3);
        using var output = torch.nn.functional.conv2d(images, weight, padding: [1, 1]);
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, channels, size, size }));
    }
}

using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>What a finished child process printed and returned.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, for assertions on a message wherever it was printed.</summary>
    public string Output => StandardOutput + StandardError;

    /// <summary>The signal that killed the process (SIGSEGV, SIGFPE, SIGABRT, ...), or null when it exited by itself.</summary>
    public string? Signal => Signals.FromExitCode(ExitCode);

    /// <summary>
    /// The non-empty lines of stderr without libtorch's machine-dependent notices (<see cref="NativeNotices"/>): what
    /// the process itself said went wrong.
    /// </summary>
    public IReadOnlyList<string> ErrorLines => NativeNotices.Without(StandardError);

    /// <summary>The command and everything it printed, for failure messages.</summary>
    public string Transcript => $"$ {CommandLine}\n(exit code {ExitCode})\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>How the samples' error paths must look.</summary>
internal static partial class SampleAssert
{
    /// <summary>Bad input is reported in words: no stack frame, no exception type name.</summary>
    public static void NoStackTrace(CommandResult run) =>
        Assert.That(StackFrame().IsMatch(run.Output) || run.Output.Contains("Exception", StringComparison.Ordinal), Is.False,
            "a missing input is reported without a stack trace\n" + run.Transcript);

    /// <summary>
    /// Exit code 2, nothing on stderr but "error: ..." lines (and libtorch's own notices), and one of them holding every
    /// one of <paramref name="parts"/>, without a stack trace.
    /// </summary>
    public static void BadInput(CommandResult run, params string[] parts)
    {
        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        var lines = run.ErrorLines;
        Assert.That(lines.Where(line => !line.StartsWith("error: ", StringComparison.Ordinal)), Is.Empty,
            "the sample says what is wrong in error: lines only\n" + run.Transcript);
        Assert.That(lines.Any(line => parts.All(part => line.Contains(part, StringComparison.Ordinal))), Is.True,
            $"no error line holds all of: {string.Join(" | ", parts)}\n{run.Transcript}");
        NoStackTrace(run);
    }

    [GeneratedRegex(@"^\s+at \S+", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}

/// <summary>
/// Runs the <c>dotnet</c> host (a built sample, or an SDK command) as a child process with a time limit, and finds the
/// repository and the sample assemblies the solution build produced.
/// </summary>
internal static class DotnetCommand
{
    /// <summary>The configuration this test assembly was built in; samples and packages are taken from the same one.</summary>
    public static string Configuration { get; } =
        typeof(DotnetCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>The repository root: the nearest folder above the test assembly that holds ImageCaptioning.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The dotnet host running this test (so children use the same SDK and runtime), else the one on PATH.</summary>
    public static string Host { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } process && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
        : "dotnet";

    /// <summary>The built assembly of sample <paramref name="name"/>; fails with the build command when it is missing.</summary>
    public static string SampleAssembly(string name)
    {
        var path = Path.Combine(RepositoryRoot, "samples", name, "bin", Configuration, "net10.0", name + ".dll");
        if (!File.Exists(path))
            Assert.Fail($"the {name} sample is not built ({path} is missing): the samples are built by the solution build, `dotnet build ImageCaptioning.sln -c {Configuration}` (./build.sh test runs it)");
        return path;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and waits at most <paramref name="timeout"/> (then kills the process tree and fails).</summary>
    public static CommandResult Run(IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null) =>
        RunProcess(Host, arguments, timeout, workingDirectory, environment);

    /// <summary>Runs <paramref name="program"/> as <see cref="Run"/> runs <c>dotnet</c>.</summary>
    public static CommandResult RunProcess(string program, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // MSBuild worker nodes and build servers would outlive the command and hold its output pipes open.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var commandLine = string.Join(' ', new[] { program == Host ? "dotnet" : program }.Concat(start.ArgumentList.Select(a => a.Contains(' ') ? $"\"{a}\"" : a)));
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"`{commandLine}` did not finish within {timeout.TotalSeconds:F0} s\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        }
        // The parameterless wait also waits for the output streams to be read to the end.
        process.WaitForExit();
        lock (stdout) lock (stderr) return new CommandResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a built sample.</summary>
    public static CommandResult RunSample(string name, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null) =>
        Run(new[] { SampleAssembly(name) }.Concat(arguments), timeout, workingDirectory, environment);

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "ImageCaptioning.sln"))) return directory.FullName;
        throw new InvalidOperationException($"no ImageCaptioning.sln above {AppContext.BaseDirectory}: the tests run from the repository's build output");
    }
}

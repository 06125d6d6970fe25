using System.Collections.Concurrent;
using System.Diagnostics;
using NUnit.Framework;

namespace ImageCaptioning.Testing;

/// <summary>
/// Runs the independent Python references (Debian's python3-torch, python3-torchvision, python3-nltk, python3-pil)
/// that the parity tests compare against. Under CI (CI=true) a missing reference fails the test; elsewhere it is
/// reported as inconclusive with the install command.
/// </summary>
internal static class PythonReference
{
    /// <summary>Debian's interpreter: the first python3 on PATH may be another one without these modules.</summary>
    public const string Interpreter = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, string?> MissingModuleReasons = new();

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Full path of a reference script copied next to the test assembly.</summary>
    public static string ScriptPath(string script) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "reference", script);

    /// <summary>Stops the test (fail under CI, inconclusive elsewhere) unless every module imports.</summary>
    public static void Require(params string[] modules)
    {
        foreach (var module in modules)
        {
            var reason = MissingModuleReasons.GetOrAdd(module, Probe);
            if (reason is null) continue;
            var message = $"Python reference module '{module}' is unavailable ({reason}). Install it: sudo apt-get install -y python3-torch python3-torchvision python3-nltk python3-pil (or run ./build.sh setup).";
            if (IsCi) Assert.Fail(message);
            Assert.Inconclusive(message);
        }
    }

    /// <summary>Runs a reference script from the test output's reference folder and returns its standard output.</summary>
    public static string Run(string script, params string[] arguments)
    {
        var path = ScriptPath(script);
        Assert.That(File.Exists(path), Is.True, $"reference script {path} is missing from the test output");
        var (exitCode, stdout, stderr) = Execute([path, .. arguments]);
        if (exitCode != 0)
            Assert.Fail($"reference script {script} exited with {exitCode}:\n{stderr}");
        return stdout;
    }

    private static string? Probe(string module)
    {
        if (!File.Exists(Interpreter)) return $"{Interpreter} does not exist";
        var (exitCode, _, stderr) = Execute(["-c", $"import {module}"]);
        return exitCode == 0 ? null : stderr.Trim().Split('\n').LastOrDefault() ?? $"exit code {exitCode}";
    }

    private static (int ExitCode, string Stdout, string Stderr) Execute(string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The reference runs single-threaded unless a test says otherwise: parity, not speed, is measured here.
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["PYTHONHASHSEED"] = "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Interpreter}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

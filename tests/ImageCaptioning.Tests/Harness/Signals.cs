using System.Runtime.InteropServices;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// Linux signals by name, and how a process killed by one is reported: .NET's <c>Process.ExitCode</c> gives 128 + the
/// signal's number on Linux, as shells do (139 for SIGSEGV, 136 for SIGFPE, 134 for SIGABRT).
/// </summary>
internal static partial class Signals
{
    // The x86-64 and arm64 Linux numbers (they agree on these).
    private static readonly Dictionary<string, int> Numbers = new(StringComparer.Ordinal)
    {
        ["SIGHUP"] = 1, ["SIGINT"] = 2, ["SIGQUIT"] = 3, ["SIGILL"] = 4, ["SIGTRAP"] = 5, ["SIGABRT"] = 6, ["SIGBUS"] = 7,
        ["SIGFPE"] = 8, ["SIGKILL"] = 9, ["SIGSEGV"] = 11, ["SIGPIPE"] = 13, ["SIGALRM"] = 14, ["SIGTERM"] = 15,
    };

    /// <summary>The number of signal <paramref name="name"/> (SIGFPE, SIGSEGV, ...).</summary>
    public static int Number(string name) => Numbers.TryGetValue(name, out var number) ? number
        : throw new ArgumentException($"unknown signal '{name}': one of {string.Join(", ", Numbers.Keys)}", nameof(name));

    /// <summary>The signal an exit code of 128 + N reports, or null for an exit code that names none.</summary>
    public static string? FromExitCode(int exitCode) =>
        Numbers.FirstOrDefault(pair => pair.Value == exitCode - 128).Key;

    /// <summary>
    /// Ends this process with signal <paramref name="name"/>, as a native fault inside libtorch ends it. Returns only if
    /// the process survived it (then it throws).
    /// </summary>
    public static void Raise(string name)
    {
        var number = Number(name);
        // The runtime's handlers for SIGSEGV, SIGFPE and SIGABRT return from a signal that kill() sent, and the process
        // lives on (tried: exit code 0). For a real fault outside managed code they restore the default action and the
        // faulting instruction, executed again, ends the process; restoring it here gives the same death.
        if (signal(number, SigDfl) == SigErr || kill(Environment.ProcessId, number) != 0)
            throw new InvalidOperationException($"could not send {name} to process {Environment.ProcessId}: errno {Marshal.GetLastPInvokeError()}");
        // A signal sent to the process may be delivered to another thread: give it time to end the process.
        Thread.Sleep(TimeSpan.FromSeconds(10));
        throw new InvalidOperationException($"process {Environment.ProcessId} survived {name}");
    }

    private const nint SigDfl = 0, SigErr = -1;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint signal(int signal, nint handler);
}

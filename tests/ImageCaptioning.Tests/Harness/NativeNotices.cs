using System.Text.RegularExpressions;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// What libtorch's own native code may print to a process's stderr on some CPUs, whatever the process does: tests
/// that check a process's stderr look at the other lines (<see cref="Samples.CommandResult.ErrorLines"/>). These lines
/// are written to file descriptor 2 by C++ code as libtorch initialises a kernel family, so neither the library
/// nor a sample can filter them, and whether they appear depends on the machine, not on the code under test.
/// </summary>
internal static partial class NativeNotices
{
    /// <summary>Whether <paramref name="line"/> is one of libtorch's known machine-dependent notices.</summary>
    public static bool Is(string line) => Notice().IsMatch(line);

    /// <summary>The non-empty lines of <paramref name="stderr"/> that are not libtorch's notices, line endings trimmed.</summary>
    public static IReadOnlyList<string> Without(string stderr) =>
        stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && !Is(l)).ToList();

    // NNPACK on a CPU it does not support: bare, or with c10's log prefix ("[W NNPACK.cpp:64] " in older libtorch,
    // "[W1202 19:42:07.123456 4711 NNPACK.cpp:62] " since 2.4). cpuinfo, which NNPACK and oneDNN's dispatch use, on a
    // VM whose /sys or /proc hides the CPU topology or caches: "Error in cpuinfo: ..." and "Warning in cpuinfo: ...".
    // Each is anchored to its whole form, so a line of the library's own (an "error: ..." line) never matches.
    [GeneratedRegex(@"^(\[W[^\]]*\bNNPACK\.cpp:\d+\]\s*)?Could not initialize NNPACK! Reason: [^\r\n]*$|^(Error|Warning) in cpuinfo: [^\r\n]*$")]
    private static partial Regex Notice();
}

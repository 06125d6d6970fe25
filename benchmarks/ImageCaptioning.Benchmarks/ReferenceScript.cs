using System.Diagnostics;
using System.Globalization;

namespace ImageCaptioning.Benchmarks;

/// <summary>The benchmarks' Python references (benchmarks/reference/*.py), found above the benchmark's output folder.</summary>
internal static class ReferenceScript
{
    public static string Find(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "benchmarks", "reference", name);
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException($"benchmarks/reference/{name} was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Applies IMAGECAPTIONING_NUM_THREADS (the comparison runner's thread count) and returns the image folder both
    /// sides read: IMAGECAPTIONING_BENCH_IMAGES, or a new temporary one made by <c>SCRIPT make-images</c>, returned in
    /// <paramref name="owned"/> for the caller to delete.
    /// </summary>
    public static string PrepareImages(string name, int count, out string? owned)
    {
        ApplyThreads();
        owned = null;
        var directory = Environment.GetEnvironmentVariable("IMAGECAPTIONING_BENCH_IMAGES");
        if (!string.IsNullOrEmpty(directory)) return directory;
        directory = owned = Path.Combine(Path.GetTempPath(), "ic-bench-" + Guid.NewGuid().ToString("N")[..8]);
        MakeImages(name, directory, count);
        return directory;
    }

    /// <summary>Applies IMAGECAPTIONING_NUM_THREADS, the comparison runner's thread count, where it is set.</summary>
    public static void ApplyThreads()
    {
        if (Environment.GetEnvironmentVariable("IMAGECAPTIONING_NUM_THREADS") is { } threads)
            torch.set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
    }

    /// <summary>Runs <c>SCRIPT make-images DIRECTORY COUNT</c>, the files both sides of a comparison read.</summary>
    private static void MakeImages(string name, string directory, int count) =>
        Run(name, ["make-images", directory, count.ToString(CultureInfo.InvariantCulture)], $"set IMAGECAPTIONING_BENCH_IMAGES to a folder of {count} images instead");

    /// <summary>Runs the reference script <paramref name="name"/> with <paramref name="arguments"/> under /usr/bin/python3, failing with its stderr and <paramref name="remedy"/>.</summary>
    public static void Run(string name, IReadOnlyList<string> arguments, string remedy)
    {
        var script = Find(name);
        var start = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {arguments[0]} failed ({process.ExitCode}): {error}; {remedy}");
    }
}

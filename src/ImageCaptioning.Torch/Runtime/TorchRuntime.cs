using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Runtime;

/// <summary>
/// Loads TorchSharp's native backend once, with the library's thread defaults, and turns a failure to load into
/// an exception that says what is missing. The library calls it before its first tensor; an app may call it
/// first to fail early.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<OneDnnUse> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Loads libtorch through TorchSharp (once), applies the intra-op thread default, and switches libtorch off
    /// oneDNN where oneDNN cannot compute correctly on this CPU (<see cref="OneDnn"/>). The setting is libtorch's,
    /// so it holds for every TorchSharp call in the process.
    /// </summary>
    /// <exception cref="TorchLoadException">TorchSharp's native libraries cannot be loaded, or IMAGECAPTIONING_ONEDNN is not auto, on or off; the message says why.</exception>
    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>
    /// Whether libtorch runs its CPU kernels through oneDNN in this process, and why (loads libtorch first). Off where
    /// the CPU hides its cache sizes from oneDNN, or where the environment variable IMAGECAPTIONING_ONEDNN is
    /// <c>off</c>; <c>on</c> forces it on.
    /// </summary>
    /// <exception cref="TorchLoadException">As for <see cref="EnsureLoaded"/>.</exception>
    public static OneDnnUse OneDnn => Loaded.Value;

    // Assemblies' module initialisers run before any of their code, which is before TorchSharp is touched through
    // this library: the environment is set before libgomp reads it.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void Initialize() => ThreadPolicy.BeforeLoad();
#pragma warning restore CA2255

    private static OneDnnUse Load()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or BadImageFormatException)
        {
            throw new TorchLoadException(Diagnose(), e);
        }
        var threads = ThreadPolicy.DefaultThreads();
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        try
        {
            return OneDnnPolicy.Apply();
        }
        catch (InvalidOperationException e)
        {
            throw new TorchLoadException(e.Message, e);
        }
    }

    // Asks the dynamic loader itself, whose message names the missing library or symbol version.
    private static string Diagnose()
    {
        var name = OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        var candidates = new[] { Path.Combine(AppContext.BaseDirectory, name) }
            .Concat(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes"))
                ? Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "runtimes"), name, SearchOption.AllDirectories)
                    .Where(p => p.Contains(RuntimeInformation.RuntimeIdentifier, StringComparison.Ordinal) || p.Contains(RidFamily(), StringComparison.Ordinal))
                : [])
            .Where(File.Exists)
            .ToList();
        if (candidates.Count == 0)
            return $"TorchSharp's native backend ({name}) is not in {AppContext.BaseDirectory}: the app must reference a backend package, " +
                   "TorchSharp-cpu for the CPU or a TorchSharp CUDA package, besides ImageCaptioning.";
        foreach (var path in candidates)
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
            }
            catch (DllNotFoundException e)
            {
                var hint = e.Message.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal)
                    ? " This libstdc++ is older than GCC 13's (Debian 12, Ubuntu 22.04). ImageCaptioning's build step marks the one " +
                      "GLIBCXX_3.4.32 requirement weak in the output's copy; rebuild without -p:ImageCaptioningPatchLibTorchSharp=false, " +
                      "or install a GCC 13 libstdc++."
                    : "";
                return $"TorchSharp's native backend {path} cannot be loaded: {e.Message}.{hint}";
            }
        }
        return $"TorchSharp could not initialise libtorch from {string.Join(", ", candidates)}; see the inner exception.";
    }

    private static string RidFamily() =>
        (OperatingSystem.IsWindows() ? "win-" : OperatingSystem.IsMacOS() ? "osx-" : "linux-") + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
}

/// <summary>TorchSharp's native libraries could not be loaded; the message names what is missing.</summary>
public sealed class TorchLoadException : Exception
{
    internal TorchLoadException(string message, Exception inner) : base(message, inner)
    {
    }
}

using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Runtime;

/// <summary>
/// Thread defaults applied once, around the loading of libtorch.
/// <list type="bullet">
/// <item>OMP_WAIT_POLICY=PASSIVE (unless set): libgomp's default spinning keeps idle OpenMP workers busy-waiting,
/// and on a small machine they steal the cores BLAS needs. libgomp reads it when it loads, so it must be in the
/// native environment before TorchSharp loads libtorch.</item>
/// <item>Intra-op threads = IMAGECAPTIONING_NUM_THREADS, else OMP_NUM_THREADS, else the logical core count
/// (libtorch would otherwise pick the physical core count, 1 on a 2-vCPU machine).</item>
/// </list>
/// </summary>
internal static partial class ThreadPolicy
{
    internal const string ThreadsVariable = "IMAGECAPTIONING_NUM_THREADS";

    /// <summary>Sets the native environment; call before libtorch is loaded.</summary>
    internal static void BeforeLoad() => SetDefault("OMP_WAIT_POLICY", "PASSIVE");

    /// <summary>The intra-op thread count the library applies after loading libtorch.</summary>
    internal static int DefaultThreads()
    {
        foreach (var name in new[] { ThreadsVariable, "OMP_NUM_THREADS" })
            if (int.TryParse(Environment.GetEnvironmentVariable(name), out var n) && n > 0) return n;
        return Environment.ProcessorCount;
    }

    private static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        Environment.SetEnvironmentVariable(name, value);
        // .NET keeps its own copy of the environment on Unix: the native one, which libgomp reads, needs libc.
        if (!OperatingSystem.IsWindows()) _ = setenv(name, value, 0);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}

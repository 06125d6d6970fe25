using System.Runtime.CompilerServices;
using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning;

internal static class TorchSetup
{
    // Runs when this assembly loads, before any of its code touches TorchSharp: libgomp reads OMP_WAIT_POLICY once,
    // when libtorch loads.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void BeforeLibTorchLoads() => TorchRuntime.Initialize();
#pragma warning restore CA2255
}

using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Runtime;

/// <summary>
/// Decides once per process whether libtorch may use oneDNN, and tells libtorch through its global context (what
/// PyTorch's <c>torch.backends.mkldnn.enabled</c> sets; TorchSharp has no binding for it, so the exported C++ accessors
/// are called directly). <c>IMAGECAPTIONING_ONEDNN</c> = <c>auto</c> (the default: off only where oneDNN cannot see the
/// CPU's cache sizes, see <see cref="CpuCacheReport"/>), <c>on</c> or <c>off</c>.
/// </summary>
internal static class OneDnnPolicy
{
    internal const string Variable = "IMAGECAPTIONING_ONEDNN";

    /// <summary>Reads the setting and the CPU, and applies the result to the loaded libtorch.</summary>
    /// <exception cref="InvalidOperationException">The setting is not auto, on or off; or oneDNN must be switched off and this libtorch offers no way to.</exception>
    internal static OneDnnUse Apply()
    {
        var use = Decide(Environment.GetEnvironmentVariable(Variable), CpuCacheReport.OfThisCpu());
        if (!use.Enabled) NativeContext.DisableOneDnn(use.Reason);
        return use;
    }

    internal static OneDnnUse Decide(string? setting, CpuCacheReport cpu) => setting?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => cpu.CacheSizesKnown
            ? new OneDnnUse(true, cpu.Description)
            : new OneDnnUse(false, cpu.Description),
        "on" => new OneDnnUse(true, $"{Variable}=on" + (cpu.CacheSizesKnown ? "" : $", although this is a {cpu.Description}")),
        "off" => new OneDnnUse(false, $"{Variable}=off"),
        _ => throw new InvalidOperationException($"{Variable}='{setting}' is not one of auto, on, off"),
    };

    private static class NativeContext
    {
        // (library, global context getter, setter, getter) as each platform's C++ ABI names them.
        private static readonly (string Library, string Context, string SetEnabled, string Enabled) Symbols = OperatingSystem.IsWindows()
            ? ("torch_cpu", "?globalContext@at@@YAAEAVContext@1@XZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z", "?userEnabledMkldnn@Context@at@@QEBA_NXZ")
            : (OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb",
                "_ZNK2at7Context17userEnabledMkldnnEv");

        internal static unsafe void DisableOneDnn(string reason)
        {
            if (!NativeLibrary.TryLoad(Symbols.Library, typeof(NativeContext).Assembly, null, out var library)
                || !NativeLibrary.TryGetExport(library, Symbols.Context, out var context)
                || !NativeLibrary.TryGetExport(library, Symbols.SetEnabled, out var setEnabled)
                || !NativeLibrary.TryGetExport(library, Symbols.Enabled, out var enabled))
                throw new InvalidOperationException(
                    $"oneDNN must be switched off ({reason}), but {Symbols.Library} does not export at::Context::setUserEnabledMkldnn; " +
                    $"set {Variable}=on to run with oneDNN anyway");
            var globalContext = ((delegate* unmanaged<nint>)context)();
            ((delegate* unmanaged<nint, byte, void>)setEnabled)(globalContext, 0);
            if (((delegate* unmanaged<nint, byte>)enabled)(globalContext) != 0)
                throw new InvalidOperationException($"oneDNN must be switched off ({reason}), but libtorch still reports it enabled after being told not to use it");
        }
    }
}

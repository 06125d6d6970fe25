using System.Runtime.Intrinsics.X86;
using System.Text;

namespace ImageCaptioning.Torch.Runtime;

/// <summary>
/// What oneDNN learns about the data caches from CPUID, read the way its CPU detection reads it. oneDNN sizes the
/// blocking of its JIT convolution kernels, and the block size of its sum primitive, from the per-core cache sizes.
/// On AMD it takes them from leaf <c>0x8000001D</c> (cache topology). Some hypervisors hide that leaf (no TOPOEXT
/// flag, every sub-leaf zero): oneDNN then computes with zero-sized caches, and its AVX2 and AVX-512 direct
/// convolutions return wrong values, NaN among them, while its sum primitive divides by zero (SIGFPE). On Intel it
/// reads leaf 4 and, finding no caches there, falls back to built-in guesses, which are safe.
/// </summary>
internal readonly record struct CpuCacheReport(bool CacheSizesKnown, string Description)
{
    internal const int AmdCacheTopologyLeaf = unchecked((int)0x8000001D);

    /// <summary>The CPU this process runs on.</summary>
    internal static CpuCacheReport OfThisCpu() =>
        X86Base.IsSupported
            ? Read((leaf, subLeaf) => X86Base.CpuId(leaf, subLeaf))
            : new CpuCacheReport(true, $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} CPU: oneDNN's x86 cache detection does not apply");

    /// <summary>Classifies a CPU from its CPUID answers (a function of leaf and sub-leaf), so any CPU can be described in a test.</summary>
    internal static CpuCacheReport Read(Func<int, int, (int Eax, int Ebx, int Ecx, int Edx)> cpuid)
    {
        var (_, ebx, ecx, edx) = cpuid(0, 0);
        var vendor = Vendor(ebx, edx, ecx);
        if (vendor is not ("AuthenticAMD" or "HygonGenuine"))
            return new CpuCacheReport(true, $"{vendor} CPU: oneDNN reads its caches from leaf 4, or uses built-in sizes when it reports none");

        var maxExtended = (uint)cpuid(unchecked((int)0x80000000), 0).Eax;
        var firstDataCache = cpuid(AmdCacheTopologyLeaf, 0);
        var type = firstDataCache.Eax & 0x1F;
        // Size = ways × partitions × line size × sets, each field stored minus one.
        var size = type == 0 ? 0L : ((((long)firstDataCache.Ebx >> 22) & 0x3FF) + 1) * (((firstDataCache.Ebx >> 12) & 0x3FF) + 1) * ((firstDataCache.Ebx & 0xFFF) + 1) * ((long)(uint)firstDataCache.Ecx + 1);
        if (maxExtended >= 0x8000001D && type is 1 or 3 && size > 1)
            return new CpuCacheReport(true, $"{vendor} CPU: CPUID leaf 0x8000001D reports a {size / 1024} KiB first-level data cache");
        return new CpuCacheReport(false,
            $"{vendor} CPU whose CPUID leaf 0x8000001D reports no caches (highest extended leaf 0x{maxExtended:X}): oneDNN's convolution kernels are blocked for zero-sized caches there and compute wrong results");
    }

    private static string Vendor(int ebx, int edx, int ecx)
    {
        Span<byte> bytes = stackalloc byte[12];
        BitConverter.TryWriteBytes(bytes, ebx);
        BitConverter.TryWriteBytes(bytes[4..], edx);
        BitConverter.TryWriteBytes(bytes[8..], ecx);
        return Encoding.ASCII.GetString(bytes);
    }
}

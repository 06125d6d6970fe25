using ImageCaptioning.Torch.Runtime;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Runtime;

/// <summary>
/// The decision to keep libtorch off oneDNN, from CPUID answers of real CPU kinds, so that every kind is checked on
/// any machine: the 2-vCPU AMD EPYC VMs seen here (one hides leaf 0x8000001D and gets wrong convolutions), a bare
/// Zen 4, and Intel parts with and without leaf 4.
/// </summary>
[TestFixture]
public sealed class OneDnnPolicyTests
{
    private const int Extended = unchecked((int)0x80000000);

    // "AuthenticAMD" / "GenuineIntel" as CPUID leaf 0 returns them in EBX, EDX, ECX.
    private static readonly (int Ebx, int Edx, int Ecx) Amd = (0x68747541, 0x69746E65, 0x444D4163);
    private static readonly (int Ebx, int Edx, int Ecx) Intel = (0x756E6547, 0x49656E69, 0x6C65746E);

    private static Func<int, int, (int, int, int, int)> Cpu((int Ebx, int Edx, int Ecx) vendor, uint maxExtended, (int, int, int, int) topology0) =>
        (leaf, subLeaf) => leaf switch
        {
            0 => (13, vendor.Ebx, vendor.Ecx, vendor.Edx),
            Extended => ((int)maxExtended, 0, 0, 0),
            CpuCacheReport.AmdCacheTopologyLeaf when maxExtended >= 0x8000001D => subLeaf == 0 ? topology0 : (0, 0, 0, 0),
            _ => (0, 0, 0, 0),
        };

    // A 48 KiB, 12-way first-level data cache of 64-byte lines: type 1, level 1, 64 sets.
    private static readonly (int, int, int, int) Zen4L1 = (0x121, (11 << 22) | 63, 63, 0);

    [Test]
    public void AnAmdCpuThatHidesItsCacheTopologyIsNotTrusted()
    {
        var report = CpuCacheReport.Read(Cpu(Amd, 0x80000021, (0, 0, 0, 0)));
        Assert.That(report.CacheSizesKnown, Is.False, report.Description);
        Assert.That(report.Description, Does.Contain("0x8000001D reports no caches"));
        Assert.That(OneDnnPolicy.Decide(null, report).Enabled, Is.False);
        Assert.That(OneDnnPolicy.Decide("auto", report).Enabled, Is.False);
        Assert.That(OneDnnPolicy.Decide("ON", report), Is.EqualTo(new OneDnnUse(true, $"IMAGECAPTIONING_ONEDNN=on, although this is a {report.Description}")));
    }

    [Test]
    public void AnAmdCpuWithoutTheTopologyLeafIsNotTrusted() =>
        Assert.That(CpuCacheReport.Read(Cpu(Amd, 0x8000001A, Zen4L1)).CacheSizesKnown, Is.False);

    [Test]
    public void AnAmdCpuThatReportsItsCachesIsTrusted()
    {
        var report = CpuCacheReport.Read(Cpu(Amd, 0x80000028, Zen4L1));
        Assert.That(report, Is.EqualTo(new CpuCacheReport(true, "AuthenticAMD CPU: CPUID leaf 0x8000001D reports a 48 KiB first-level data cache")));
        Assert.That(OneDnnPolicy.Decide(null, report).Enabled, Is.True);
        Assert.That(OneDnnPolicy.Decide(" off ", report), Is.EqualTo(new OneDnnUse(false, "IMAGECAPTIONING_ONEDNN=off")));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AnIntelCpuIsTrustedWithOrWithoutLeafFour(bool leafFour)
    {
        var report = CpuCacheReport.Read((leaf, subLeaf) => leaf switch
        {
            0 => (13, Intel.Ebx, Intel.Ecx, Intel.Edx),
            4 when leafFour && subLeaf == 0 => (0x121, (11 << 22) | 63, 63, 0),
            _ => (0, 0, 0, 0),
        });
        Assert.That(report.CacheSizesKnown, Is.True, report.Description);
        Assert.That(report.Description, Does.StartWith("GenuineIntel CPU"));
    }

    [Test]
    public void AnUnknownSettingIsRefusedNamingIt() =>
        Assert.That(() => OneDnnPolicy.Decide("sometimes", new CpuCacheReport(true, "")),
            Throws.InvalidOperationException.With.Message.EqualTo("IMAGECAPTIONING_ONEDNN='sometimes' is not one of auto, on, off"));

    [Test]
    public void TheRuntimeAppliesTheDecisionForThisCpu()
    {
        var expected = OneDnnPolicy.Decide(Environment.GetEnvironmentVariable(OneDnnPolicy.Variable), CpuCacheReport.OfThisCpu());
        Assert.That(TorchRuntime.OneDnn, Is.EqualTo(expected));
        TestContext.Out.WriteLine($"oneDNN {(expected.Enabled ? "on" : "off")}: {expected.Reason}");
    }
}

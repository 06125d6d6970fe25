using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests;

[TestFixture]
public sealed class DeviceTests
{
    [Test]
    public void ParsesDeviceNames()
    {
        Assert.That(Device.Parse("cpu"), Is.EqualTo(Device.Cpu));
        Assert.That(Device.Parse("CUDA:1"), Is.EqualTo(Device.Cuda(1)));
        Assert.Throws<FormatException>(() => Device.Parse("gpu"));
    }

    [Test]
    public void ReportsTheLibtorchBuild()
    {
        var config = torch.build_config();
        Assert.That(config, Does.StartWith("libtorch "));
        Assert.That(config, Does.Contain("OpenMP"));
        Assert.That(torch.cuda.device_count(), Is.EqualTo(torch.cuda.is_available() ? torch.cuda.device_count() : 0));
    }

    [Test]
    public void IntraOpThreadsDefaultToTheCoreCount()
    {
        var expected = int.TryParse(Environment.GetEnvironmentVariable("IMAGECAPTIONING_NUM_THREADS"), out var n) ? n
            : int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var m) ? m
            : Environment.ProcessorCount;
        Assert.That(torch.get_num_threads(), Is.EqualTo(expected));
        Assert.That(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"), Is.Not.Null);
    }

    [Test]
    public void CudaRoundTripWhenAvailable()
    {
        if (!torch.cuda.is_available())
            Assert.Ignore("skipped: no CUDA (the loaded libtorch has no CUDA or no GPU is visible)");
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([64, 32]);
        var onGpu = x.cuda();
        Assert.That(onGpu.device, Is.EqualTo(Device.Cuda(0)));
        var back = onGpu.matmul(onGpu.transpose(0, 1)).cpu();
        torch.cuda.synchronize();
        Assert.That(back.sub(x.matmul(x.transpose(0, 1))).abs().max().item<float>(), Is.LessThan(1e-3f));
    }
}

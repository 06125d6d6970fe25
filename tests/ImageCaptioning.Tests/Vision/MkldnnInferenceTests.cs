using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>The CPU eval path reaches oneDNN's blocked layout through TorchScript, and gives the strided path's values.</summary>
[TestFixture]
public sealed class MkldnnInferenceTests
{
    [Test]
    public void EvalModeWithoutGradOnTheCpuRunsBlockedAndMatchesTheStridedPath()
    {
        torch.manual_seed(3);
        using var network = new Vgg16(Vgg16Output.Conv5_3);
        network.eval();
        using var noGrad = torch.no_grad();
        using var images = torch.randn(2, 3, 64, 64);

        Assert.That(MkldnnInference.Applies(network, images), Is.True, "libtorch-cpu 2.10 has oneDNN, and TorchScript reaches to_mkldnn");
        using var blocked = network.forward(images);
        MkldnnInference.Enabled = false;
        try
        {
            using var strided = network.forward(images);
            Assert.That(blocked.ToArray<float>(), Is.EqualTo(strided.ToArray<float>()).Within(1e-5f));
        }
        finally
        {
            MkldnnInference.Enabled = true;
        }
    }

    [Test]
    public void TrainingModeAndGradientRecordingKeepTheStridedPath()
    {
        using var network = new Vgg16(Vgg16Output.Conv5_3);
        using var images = torch.randn(1, 3, 32, 32);

        Assert.That(MkldnnInference.Applies(network, images), Is.False, "training mode");
        network.eval();
        Assert.That(MkldnnInference.Applies(network, images), Is.False, "gradient recording on");
    }
}

using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

[TestFixture]
public sealed class SelfCriticalOptionsTests
{
    [Test]
    public void DefaultsAreSelfCriticalPytorchs()
    {
        var options = new SelfCriticalOptions();

        Assert.That(options.Epochs, Is.EqualTo(20));
        Assert.That(options.LearningRate, Is.EqualTo(5e-5));
        Assert.That(options.SamplesPerImage, Is.EqualTo(5));
        Assert.That(options.MaxLength, Is.EqualTo(16));
        Assert.That(options.Temperature, Is.EqualTo(1.0));
        Assert.That(options.Baseline, Is.EqualTo(SelfCriticalBaseline.Greedy));
    }

    [Test]
    public void EachBadSettingIsRefusedWhereItIsSetNamingIt()
    {
        var options = new SelfCriticalOptions();
        AssertRefused(() => options with { Epochs = 0 }, "Epochs");
        AssertRefused(() => options with { LearningRate = 0 }, "LearningRate");
        AssertRefused(() => options with { LearningRate = double.NaN }, "LearningRate");
        AssertRefused(() => options with { SamplesPerImage = 0 }, "SamplesPerImage");
        AssertRefused(() => options with { MaxLength = 0 }, "MaxLength");
        AssertRefused(() => options with { Temperature = -1 }, "Temperature");
        AssertRefused(() => options with { Baseline = (SelfCriticalBaseline)7 }, "Baseline");
    }

    [Test]
    public void GoodSettingsAreKept()
    {
        var options = new SelfCriticalOptions
        {
            Epochs = 3, LearningRate = 1e-5, SamplesPerImage = 16, MaxLength = 20, Temperature = 0.5,
            Baseline = SelfCriticalBaseline.MeanOfOtherSamples,
        };

        Assert.That((options.Epochs, options.LearningRate, options.SamplesPerImage, options.MaxLength, options.Temperature, options.Baseline),
            Is.EqualTo((3, 1e-5, 16, 20, 0.5, SelfCriticalBaseline.MeanOfOtherSamples)));
    }

    private static void AssertRefused(Func<SelfCriticalOptions> set, string option)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => set());
        Assert.That(error!.ParamName, Is.EqualTo(option));
        Assert.That(error.Message, Does.StartWith(option));
    }
}

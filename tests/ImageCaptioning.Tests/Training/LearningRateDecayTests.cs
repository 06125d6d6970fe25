using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>The per-epoch learning-rate decay: epoch e trains at rate × decay^e, and a resumed run picks it up at its epoch.</summary>
[TestFixture]
public sealed class LearningRateDecayTests
{
    [Test]
    public void EachEpochTrainsAtTheDecayedRate()
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        var seen = new List<double>();
        var options = TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 3) with { LearningRate = 4e-3, LearningRateDecay = 0.5 };
        CaptionTrainer? trainer = null;
        var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Step == 1) seen.Add(trainer!.LearningRates[0]); });
        using (trainer = new CaptionTrainer(model, options, progress: progress))
            trainer.Train(task.Dataset());
        Assert.That(seen, Is.EqualTo(new[] { 4e-3, 2e-3, 1e-3 }).Within(1e-15));
    }

    [Test]
    public void AnIntervalDecaysEveryIntervalEpochsAsStepLR()
    {
        // torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1) over 5 epochs: 4e-3, 4e-3, 4e-4, 4e-4, 4e-5.
        var task = new TinyCaptionTask();
        using var model = task.Model();
        var seen = new List<double>();
        var options = TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 5) with { LearningRate = 4e-3, LearningRateDecay = 0.1, LearningRateDecayInterval = 2 };
        CaptionTrainer? trainer = null;
        var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Step == 1) seen.Add(trainer!.LearningRates[0]); });
        using (trainer = new CaptionTrainer(model, options, progress: progress))
            trainer.Train(task.Dataset());
        Assert.That(seen, Is.EqualTo(new[] { 4e-3, 4e-3, 4e-4, 4e-4, 4e-5 }).Within(1e-15));
    }

    [Test]
    public void AnIntervalBelowOneEpochIsRefusedNamingIt()
    {
        foreach (var interval in new[] { 0, -3 })
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CaptionTrainerOptions { LearningRateDecayInterval = interval })!.ParamName,
                Is.EqualTo("LearningRateDecayInterval"));
    }

    [Test]
    public void ADecayOutsideItsRangeIsRefusedNamingIt()
    {
        foreach (var decay in new[] { 0.0, 1.5, double.NaN })
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CaptionTrainerOptions { LearningRateDecay = decay })!.ParamName, Is.EqualTo("LearningRateDecay"));
    }
}

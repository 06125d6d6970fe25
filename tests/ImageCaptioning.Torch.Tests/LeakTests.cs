using System.Diagnostics;
using ImageCaptioning.Torch.Modules;
using NUnit.Framework;
using F = ImageCaptioning.Torch.torch.nn.functional;

namespace ImageCaptioning.Torch.Tests;

/// <summary>Long training loops keep the live-tensor count and the process's memory flat.</summary>
[TestFixture]
public sealed class LeakTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void TwoThousandTrainingStepsLeaveNoTensorsAndFlatRss(bool fusedLoss)
    {
        torch.manual_seed(0);
        using var embedding = torch.nn.Embedding(50, 16, padding_idx: 0);
        using var lstm = torch.nn.LSTM(16, 32, batch_first: true);
        using var head = torch.nn.Linear(32, 50);
        using var optimizer = torch.optim.Adam(embedding.parameters().Concat(lstm.parameters()).Concat(head.parameters()));
        using var tokens = torch.randint(1, 50, [8, 12]);
        using var targets = torch.randint(0, 50, [8, 12]);

        void Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (output, _, _) = lstm.forward(embedding.forward(tokens));
            // The fused loss keeps its [N, V] buffer in the autograd graph: it must go when the graph goes.
            var loss = fusedLoss
                ? F.linear_cross_entropy(output.reshape(-1, 32), head.weight, head.bias, targets.reshape(-1))
                : F.cross_entropy(head.forward(output).reshape(-1, 50), targets.reshape(-1), ignore_index: 0);
            loss.backward();
            torch.nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
            optimizer.step();
        }

        // Warm-up: the allocator, the JIT and libtorch's caches reach steady state.
        for (var i = 0; i < 200; i++) Step();
        var baselineTensors = Tensor.LiveCount;
        var baselineRss = ResidentBytes();

        for (var i = 0; i < 2000; i++) Step();

        Assert.That(Tensor.LiveCount, Is.EqualTo(baselineTensors), "live tensors after 2,000 steps");
        var growth = ResidentBytes() - baselineRss;
        Assert.That(growth, Is.LessThan(50L << 20), $"RSS grew by {growth >> 20} MB");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }
}

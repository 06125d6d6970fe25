using System.Diagnostics;
using NUnit.Framework;
using F = TorchSharp.torch.nn.functional;

namespace ImageCaptioning.Torch.Tests;

/// <summary>Long training loops keep the live-tensor count and the process's memory flat.</summary>
[TestFixture]
public sealed class LeakTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void TwoThousandTrainingStepsLeaveNoTensorsAndFlatRss(bool realRowsOnly)
    {
        torch.manual_seed(0);
        using var embedding = torch.nn.Embedding(50, 16, padding_idx: 0);
        using var lstm = torch.nn.LSTM(16, 32, batchFirst: true);
        using var head = torch.nn.Linear(32, 50);
        using var optimizer = torch.optim.Adam(embedding.parameters().Concat(lstm.parameters()).Concat(head.parameters()));
        using var tokens = torch.randint(1, 50, [8, 12]);
        using var targets = torch.randint(0, 50, [8, 12]);

        void Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (output, _, _) = lstm.forward(embedding.forward(tokens));
            // The library's loss selects the real rows before projecting: the index tensors live in the graph too.
            var flatTargets = targets.reshape(-1);
            var real = flatTargets.ne(0).nonzero().squeeze(1);
            var loss = realRowsOnly
                ? F.cross_entropy(head.forward(output.reshape(-1, 32).index_select(0, real)), flatTargets.index_select(0, real))
                : F.cross_entropy(head.forward(output).reshape(-1, 50), flatTargets, ignore_index: 0);
            loss.backward();
            torch.nn.utils.clip_grad_norm_(optimizer.parameters(), 1.0);
            optimizer.step();
        }

        // Warm-up: the allocator, the JIT and libtorch's caches reach steady state.
        for (var i = 0; i < 200; i++) Step();
        var baselineTensors = Tensor.TotalCount;
        var baselineRss = ResidentBytes();

        for (var i = 0; i < 2000; i++) Step();

        Assert.That(Tensor.TotalCount, Is.EqualTo(baselineTensors), "live tensors after 2,000 steps");
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

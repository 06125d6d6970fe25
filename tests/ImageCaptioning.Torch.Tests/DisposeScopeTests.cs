using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests;

[TestFixture]
public sealed class DisposeScopeTests
{
    [Test]
    public void ScopeDisposesEverythingCreatedInside()
    {
        var before = Tensor.LiveCount;
        Tensor inner;
        using (var scope = torch.NewDisposeScope())
        {
            inner = torch.ones([3]) * 2 + 1;
            Assert.That(scope.Count, Is.EqualTo(3));
            Assert.That(Tensor.LiveCount, Is.EqualTo(before + 3));
        }
        Assert.That(inner.IsDisposed, Is.True);
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void MoveToOuterKeepsResultForTheOuterScope()
    {
        var before = Tensor.LiveCount;
        using (var outer = torch.NewDisposeScope())
        {
            Tensor result;
            using (var inner = torch.NewDisposeScope())
            {
                result = (torch.ones([2]) + 1).MoveToOuterDisposeScope();
            }
            Assert.That(result.IsDisposed, Is.False);
            Assert.That(result.ToArray<float>(), Is.EqualTo(new[] { 2f, 2f }));
            Assert.That(outer.Count, Is.EqualTo(1));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void DetachedTensorOutlivesTheScope()
    {
        Tensor kept;
        using (torch.NewDisposeScope())
        {
            kept = torch.zeros([4]).DetachFromDisposeScope();
        }
        Assert.That(kept.IsDisposed, Is.False);
        kept.Dispose();
        Assert.That(kept.IsDisposed, Is.True);
    }

    [Test]
    public void DisposingATensorEarlyRemovesItFromTheScope()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([1]);
        t.Dispose();
        Assert.That(scope.Count, Is.EqualTo(0));
    }

    [Test]
    public void ScopesArePerThread()
    {
        using var scope = torch.NewDisposeScope();
        Tensor? fromOtherThread = null;
        var thread = new Thread(() => fromOtherThread = torch.zeros([1]));
        thread.Start();
        thread.Join();
        Assert.That(scope.Count, Is.EqualTo(0), "a tensor made on another thread is not this thread's scope's");
        fromOtherThread!.Dispose();
    }

    [Test]
    public void NoGradScopeStopsRecordingAndRestores()
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.ones([2], requires_grad: true);
        using (torch.no_grad())
        {
            Assert.That(torch.is_grad_enabled(), Is.False);
            Assert.That((w * 2).requires_grad, Is.False);
        }
        Assert.That(torch.is_grad_enabled(), Is.True);
        Assert.That((w * 2).requires_grad, Is.True);
    }

    [Test]
    public void ZeroCopySpanSeesTensorMemory()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([4]);
        t.AsSpan<float>()[2] = 5;
        Assert.That(t.ToArray<float>(), Is.EqualTo(new[] { 0f, 0f, 5f, 0f }));
        Assert.Throws<TorchException>(() => t.transpose(0, 0).unsqueeze(1).expand(4, 3).AsSpan<float>());
    }
}

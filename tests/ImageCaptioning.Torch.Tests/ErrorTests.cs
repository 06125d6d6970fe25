using ImageCaptioning.Torch.Native;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests;

/// <summary>libtorch failures become managed exceptions with libtorch's message; the process lives on.</summary>
[TestFixture]
public sealed class ErrorTests
{
    [Test]
    public void ShapeMismatchThrowsTorchExceptionWithLibtorchMessage()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2, 3]);
        var b = torch.ones([4, 5]);
        var error = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.That(error!.Message, Does.Contain("cannot be multiplied").And.Contain("2x3").And.Contain("4x5"));
        // The binding keeps working after the failure.
        Assert.That(a.matmul(torch.ones([3, 2])).sum().item<float>(), Is.EqualTo(12f));
    }

    [Test]
    public void IndexOutOfRangeThrows()
    {
        using var scope = torch.NewDisposeScope();
        var table = torch.zeros([5, 2]);
        var error = Assert.Throws<TorchException>(() => table.index_select(0, torch.tensor(new long[] { 1, 7 })));
        Assert.That(error!.Message, Does.Contain("out of range").IgnoreCase);
        Assert.Throws<TorchException>(() => table.select(0, 9));
    }

    [Test]
    public void EmbeddingIndexBeyondTableThrows()
    {
        using var scope = torch.NewDisposeScope();
        using var embedding = torch.nn.Embedding(4, 3);
        Assert.Throws<TorchException>(() => embedding.forward(torch.tensor(new long[] { 0, 4 })));
    }

    [Test]
    public void LstmWithWrongStateShapeThrows()
    {
        using var scope = torch.NewDisposeScope();
        using var lstm = torch.nn.LSTM(4, 6, batch_first: true);
        var x = torch.zeros([2, 3, 4]);
        var h = torch.zeros([1, 5, 6]);
        Assert.Throws<TorchException>(() => lstm.forward(x, (h, h)));
    }

    [TestCase(0, "std::runtime_error raised on purpose")]
    [TestCase(1, "unknown native exception")]
    [TestCase(2, "c10::Error raised on purpose")]
    public void EveryKindOfNativeExceptionIsCaught(int kind, string message)
    {
        var error = Assert.Throws<TorchException>(() => ThrowHelper.CheckStatus(NativeMethods.ic_debug_throw(kind)));
        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public void ErrorsDoNotLeakIntoLaterCalls()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Throws<TorchException>(() => torch.ones([2]).view(3));
        Assert.That(NativeMethods.ic_take_error(), Is.EqualTo(IntPtr.Zero), "the message was taken and freed");
    }

    [Test]
    public void WrongElementTypeAndSizeAreManagedErrors()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([3]);
        Assert.Throws<InvalidOperationException>(() => t.ToArray<long>());
        Assert.Throws<TorchException>(() => t.CopyTo(new float[4].AsSpan()));
        Assert.Throws<ArgumentException>(() => torch.tensor(new float[5], [2, 3]));
    }

    [Test]
    public void UsingADisposedTensorThrowsObjectDisposed()
    {
        var t = torch.zeros([3]);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.sum());
        Assert.That(t.ToString(), Is.EqualTo("Tensor(disposed)"));
    }
}

using System.Text.Json;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests;

/// <summary>torch.get_rng_state / set_rng_state: byte-identical to PyTorch's, and restoring replays the same draws.</summary>
[TestFixture]
public sealed class RandomStateTests
{
    [Test]
    public void StateMatchesPyTorchAndReplaysItsDraws()
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        var expected = JsonDocument.Parse(PythonReference.Run("torch_rng.py", "1234")).RootElement;
        var seededBytes = expected.GetProperty("seeded").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();
        var advancedBytes = expected.GetProperty("advanced").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();

        torch.manual_seed(1234);
        var seeded = torch.get_rng_state();
        Assert.That(seeded.dtype, Is.EqualTo(ScalarType.Byte));
        Assert.That(seeded.ToArray<byte>(), Is.EqualTo(seededBytes), "state after manual_seed");
        torch.randn([100]);
        Assert.That(torch.get_rng_state().ToArray<byte>(), Is.EqualTo(advancedBytes), "state after 100 normal draws");

        // A state written by PyTorch, restored here, gives PyTorch's next draws.
        torch.manual_seed(99);
        torch.set_rng_state(torch.tensor(advancedBytes, [advancedBytes.Length]));
        var following = expected.GetProperty("following").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.That(torch.rand([8]).ToArray<float>(), Is.EqualTo(following));
    }

    [Test]
    public void RestoringReplaysDropoutMasks()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        torch.rand([3]);
        var saved = torch.get_rng_state();
        var ones = torch.ones([64, 64]);
        var first = torch.nn.functional.dropout(ones, 0.5).ToArray<float>();
        var second = torch.nn.functional.dropout(ones, 0.5).ToArray<float>();
        Assert.That(second, Is.Not.EqualTo(first), "the generator advances");

        torch.set_rng_state(saved);
        Assert.That(torch.nn.functional.dropout(ones, 0.5).ToArray<float>(), Is.EqualTo(first));
        // The returned state is a copy: drawing did not change it.
        torch.set_rng_state(saved);
        Assert.That(torch.nn.functional.dropout(ones, 0.5).ToArray<float>(), Is.EqualTo(first));
    }

    [Test]
    public void InvalidStatesThrowAndLeaveTheGeneratorUsable()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var state = torch.get_rng_state();
        Assert.Throws<TorchException>(() => torch.set_rng_state(torch.zeros([10], ScalarType.Byte)), "wrong size");
        Assert.Throws<TorchException>(() => torch.set_rng_state(torch.zeros([state.numel()])), "wrong dtype");
        Assert.Throws<ArgumentNullException>(() => torch.set_rng_state(null!));

        torch.set_rng_state(state);
        var a = torch.rand([4]).ToArray<float>();
        torch.manual_seed(3);
        Assert.That(a, Is.EqualTo(torch.rand([4]).ToArray<float>()));
    }
}

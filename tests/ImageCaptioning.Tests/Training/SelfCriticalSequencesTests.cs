using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

[TestFixture]
public sealed class SelfCriticalSequencesTests
{
    private const long E = 3;
    private const long P = 0;

    [Test]
    public void RowsAreRealThroughTheirFirstEndToken()
    {
        using var tokens = torch.tensor(new long[]
        {
            5, 6, E, P, P,
            7, E, P, P, P,
            8, 9, 10, 11, 12,
            E, P, P, P, P,
            9, 9, 9, 9, E,
        }, [5, 5]);

        var sequences = SelfCriticalSequences.Read(tokens, E, P);

        Assert.That(sequences.Count, Is.EqualTo(5));
        Assert.That(sequences.Steps, Is.EqualTo(5));
        Assert.That(sequences.Lengths, Is.EqualTo(new[] { 3, 2, 5, 1, 5 }));
        Assert.That(sequences.Finished, Is.EqualTo(new[] { true, true, false, true, true }));
        Assert.That(sequences.Captions, Is.EqualTo(new[] { new[] { 5, 6 }, new[] { 7 }, new[] { 8, 9, 10, 11, 12 }, Array.Empty<int>(), new[] { 9, 9, 9, 9 } }));
        using var mask = sequences.Mask();
        Assert.That(mask.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(mask.shape, Is.EqualTo(new long[] { 5, 5 }));
        Assert.That(mask.ToArray<float>(), Is.EqualTo(new float[]
        {
            1, 1, 1, 0, 0,
            1, 1, 0, 0, 0,
            1, 1, 1, 1, 1,
            1, 0, 0, 0, 0,
            1, 1, 1, 1, 1,
        }));
        using var boolMask = sequences.Mask(dtype: ScalarType.Bool);
        Assert.That(boolMask.ToArray<bool>().Count(b => b), Is.EqualTo(16));
    }

    [Test]
    public void APadSampledBeforeTheEndIsARealStep()
    {
        using var tokens = torch.tensor(new long[] { P, 5, P, E, P }, [1, 5]);

        var sequences = SelfCriticalSequences.Read(tokens, E, P);

        Assert.That(sequences.Lengths, Is.EqualTo(new[] { 4 }));
        Assert.That(sequences.Captions[0], Is.EqualTo(new[] { 0, 5, 0 }));
    }

    [Test]
    public void TheEndMayDoubleAsPadding()
    {
        // self-critical.pytorch's convention: id 0 ends a caption and fills the rest.
        using var tokens = torch.tensor(new long[] { 5, 0, 0, 0, 0, 0, 7, 8, 9 }, [3, 3]);

        var sequences = SelfCriticalSequences.Read(tokens, endId: 0, padId: 0);

        Assert.That(sequences.Lengths, Is.EqualTo(new[] { 2, 1, 3 }));
        Assert.That(sequences.Finished, Is.EqualTo(new[] { true, true, false }));
    }

    [Test]
    public void NoStepsGiveEmptyRows()
    {
        using var tokens = torch.zeros(new long[] { 2, 0 }, ScalarType.Int64);

        var sequences = SelfCriticalSequences.Read(tokens, E, P);

        Assert.That(sequences.Lengths, Is.EqualTo(new[] { 0, 0 }));
        using var mask = sequences.Mask();
        Assert.That(mask.shape, Is.EqualTo(new long[] { 2, 0 }));
    }

    [Test]
    public void ATokenAfterTheEndIsRejectedNamingRowAndStep()
    {
        using var tokens = torch.tensor(new long[] { 5, E, P, P, 6, E, P, 7 }, [2, 4]);

        Assert.That(() => SelfCriticalSequences.Read(tokens, E, P),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("tokens")
                .And.Message.Contains("Row 1 holds token 7 at step 3, after its end token (3) at step 1"));
    }

    [Test]
    public void ANegativeIdIsRejected()
    {
        using var tokens = torch.tensor(new long[] { 5, -2, E }, [1, 3]);

        Assert.That(() => SelfCriticalSequences.Read(tokens, E, P),
            Throws.ArgumentException.With.Message.Contains("Row 0 holds -2 at step 1"));
    }

    [Test]
    public void OnlyTwoDimensionalInt64TokensAreRead()
    {
        using var flat = torch.tensor(new long[] { 5, E });
        using var int32 = torch.tensor(new[] { 5, 3 }, [1, 2]);

        Assert.That(() => SelfCriticalSequences.Read(flat, E, P), Throws.ArgumentException.With.Message.Contains("[2] Int64"));
        Assert.That(() => SelfCriticalSequences.Read(int32, E, P), Throws.ArgumentException.With.Message.Contains("[1, 2] Int32"));
    }
}

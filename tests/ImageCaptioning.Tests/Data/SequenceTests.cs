using ImageCaptioning.Data;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Data;

public sealed class SequenceTests
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>The Keras Sequence example: the letters a..z in batches of 3, shuffled each epoch.</summary>
    [Test]
    public void LettersExample()
    {
        var sequence = new LetterSequence(Lower, new SequenceOptions { BatchSize = 3, Shuffle = true, Seed = 42 });

        Assert.That(sequence.Count, Is.EqualTo(9));
        var epoch0 = sequence.ToList();
        Assert.That(epoch0.Select(b => b.Length), Is.EqualTo(new[] { 3, 3, 3, 3, 3, 3, 3, 3, 2 }));
        var order0 = string.Concat(epoch0);
        Assert.That(order0, Is.EquivalentTo(Lower), "an epoch holds every letter once");
        Assert.That(order0, Is.Not.EqualTo(Lower), "the letters are shuffled");

        Assert.That(sequence.Epoch, Is.EqualTo(1), "enumerating one epoch ends it");
        var order1 = string.Concat(sequence);
        Assert.That(order1, Is.EquivalentTo(Lower));
        Assert.That(order1, Is.Not.EqualTo(order0), "each epoch reshuffles");

        var again = new LetterSequence(Lower, new SequenceOptions { BatchSize = 3, Seed = 42 });
        Assert.That(string.Concat(again), Is.EqualTo(order0), "the same seed gives the same order");
        Assert.That(string.Concat(new LetterSequence(Lower, new SequenceOptions { BatchSize = 3, Seed = 7 })),
            Is.Not.EqualTo(order0), "another seed gives another order");
    }

    [Test]
    public void BatchOfReadsAnyEpochByNumberWithoutMovingTheSequence()
    {
        var options = new SequenceOptions { BatchSize = 3, Seed = 42 };
        var enumerated = new LetterSequence(Lower, options);
        var epochs = Enumerable.Range(0, 3).Select(_ => string.Concat(enumerated)).ToArray();

        var byNumber = new LetterSequence(Lower, options);
        foreach (var epoch in new[] { 2, 0, 1 })
            Assert.That(string.Concat(Enumerable.Range(0, byNumber.Count).Select(i => byNumber.BatchOf(epoch, i))), Is.EqualTo(epochs[epoch]), $"epoch {epoch}");
        Assert.That(byNumber.Epoch, Is.Zero, "BatchOf leaves the sequence's own epoch alone");
        Assert.That(byNumber[0], Is.EqualTo(epochs[0][..3]), "the indexer still reads the sequence's epoch");
        Assert.Throws<ArgumentOutOfRangeException>(() => byNumber.BatchOf(-1, 0));
    }

    [Test]
    public void UnshuffledDropLastAndRandomAccess()
    {
        var sequence = new LetterSequence(Lower, new SequenceOptions { BatchSize = 3, Shuffle = false, DropLast = true });

        Assert.That(sequence.Count, Is.EqualTo(8));
        Assert.That(sequence[2], Is.EqualTo("ghi"));
        Assert.That(sequence[7], Is.EqualTo("vwx"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = sequence[8]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = sequence[-1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SequenceOptions { BatchSize = 0 });
    }

    [Test]
    public void RepeatForeverWrapsAndReshuffles()
    {
        var sequence = new LetterSequence(Lower, new SequenceOptions { BatchSize = 5, Seed = 3 });
        var expected = new List<string>();
        var reference = new LetterSequence(Lower, new SequenceOptions { BatchSize = 5, Seed = 3 });
        for (var epoch = 0; epoch < 3; epoch++) expected.AddRange(reference);

        var batches = sequence.RepeatForever().Take(3 * sequence.Count).ToList();

        Assert.That(batches, Is.EqualTo(expected));
        Assert.That(string.Concat(expected.Take(sequence.Count)), Is.Not.EqualTo(string.Concat(expected.Skip(sequence.Count).Take(sequence.Count))));
        Assert.That(sequence.Epoch, Is.EqualTo(2), "the third epoch is still open");
    }

    [Test]
    public void RepeatForeverStopsOnCancellation()
    {
        using var cancellation = new CancellationTokenSource();
        var sequence = new LetterSequence(Lower, new SequenceOptions { BatchSize = 4 });
        var seen = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var _ in sequence.RepeatForever(cancellation.Token))
                if (++seen == 10) cancellation.Cancel();
        });
        Assert.That(seen, Is.EqualTo(10));
    }
}

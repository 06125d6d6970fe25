using DataGenerators;
using ImageCaptioning.Data;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples.DataGenerators;

/// <summary>The DataGenerators sample's <c>Sequence</c> over two aligned arrays.</summary>
[TestFixture]
public sealed class ArraySequenceTests
{
    private static readonly char[] Lower = [.. Enumerable.Range('a', 26).Select(c => (char)c)];
    private static readonly char[] Upper = [.. Lower.Select(char.ToUpperInvariant)];

    [Test]
    public void Every_x_travels_with_its_y_through_the_shuffles()
    {
        var sequence = new ArraySequence<char, char>(Lower, Upper, new SequenceOptions { BatchSize = 3, Shuffle = true, Seed = 42 });

        for (var epoch = 0; epoch < 2; epoch++)
        {
            var batches = sequence.ToList();
            Assert.That(batches.Select(b => b.X.Length), Is.EqualTo(new[] { 3, 3, 3, 3, 3, 3, 3, 3, 2 }));
            foreach (var batch in batches)
                Assert.That(batch.Y, Is.EqualTo(batch.X.Select(char.ToUpperInvariant)), "every x travels with its y");
            Assert.That(batches.SelectMany(b => b.X), Is.EquivalentTo(Lower), "an epoch holds every letter once");
        }
    }

    [Test]
    public void Unshuffled_batches_follow_the_arrays_and_mismatched_lengths_are_refused()
    {
        var sequence = new ArraySequence<char, char>(Lower, Upper, new SequenceOptions { BatchSize = 3, Shuffle = false });

        Assert.That(sequence[2].X, Is.EqualTo("ghi".ToCharArray()));
        Assert.That(sequence[7].Y, Is.EqualTo("VWX".ToCharArray()));
        Assert.Throws<ArgumentException>(() => _ = new ArraySequence<char, char>(Lower, Upper[..3]));
    }
}

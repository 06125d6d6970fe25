using System.Text.RegularExpressions;
using DataGenerators;
using ImageCaptioning.Data;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>The DataGenerators sample prints the batches the library's generators produce.</summary>
[TestFixture]
public sealed partial class DataGeneratorsSampleTests
{
    [Test]
    public void PrintsTheLettersSequenceOverTwoEpochsAndTheOtherExamples()
    {
        var run = DotnetCommand.RunSample("DataGenerators", [], TimeSpan.FromMinutes(1));
        Assert.That(run.ExitCode, Is.Zero, run.Transcript);

        var batches = LetterBatch().Matches(run.StandardOutput)
            .Select(m => (X: m.Groups["x"].Value.Split(", "), Y: m.Groups["y"].Value.Split(", ")))
            .ToList();
        Assert.That(batches, Has.Count.EqualTo(18), "2 epochs of 26 letters in batches of 3\n" + run.StandardOutput);

        // The same sequence built here gives the batches the sample printed: x = a..z, y = A..Z, batch 3, seed 42.
        var x = Enumerable.Range('a', 26).Select(c => (char)c).ToArray();
        var letters = new ArraySequence<char, char>(x, x.Select(char.ToUpperInvariant).ToArray(), new SequenceOptions { BatchSize = 3, Shuffle = true, Seed = 42 });
        var expected = letters.Concat(letters).Select(b => (X: b.X.Select(c => c.ToString()).ToArray(), Y: b.Y.Select(c => c.ToString()).ToArray())).ToList();
        Assert.That(batches.Select(b => b.X), Is.EqualTo(expected.Select(b => b.X)));
        Assert.That(batches.Select(b => b.Y), Is.EqualTo(expected.Select(b => b.Y)));

        var epochs = new[] { batches.Take(9).SelectMany(b => b.X).ToList(), batches.Skip(9).SelectMany(b => b.X).ToList() };
        Assert.That(epochs[0], Is.EquivalentTo(x.Select(c => c.ToString())), "every letter once per epoch");
        Assert.That(epochs[1], Is.EquivalentTo(x.Select(c => c.ToString())));
        Assert.That(epochs[1], Is.Not.EqualTo(epochs[0]), "reshuffled between epochs");
        Assert.That(batches.Select(b => b.Y), Is.EqualTo(batches.Select(b => b.X.Select(c => c.ToUpperInvariant()).ToArray())), "x and y stay aligned");

        Assert.That(run.StandardOutput, Does.Contain("same batches in the same order: True"));
        Assert.That(Regex.Matches(run.StandardOutput, @"images \[4, 3, 64, 64\] Float32, labels \[4, 4\]"), Has.Count.EqualTo(4), "10 rows in batches of 4, two epochs");
        Assert.That(Regex.Matches(run.StandardOutput, @"images \[2, 3, 64, 64\] Float32, labels \[2, 4\]"), Has.Count.EqualTo(2));
    }

    [Test]
    public void AnOutputPathThatIsAFileIsOneErrorLineWithExitCode2()
    {
        using var dir = new ImageCaptioning.Testing.TempDirectory();
        var file = dir.File("taken");
        File.WriteAllText(file, "a file, not a folder");

        var run = DotnetCommand.RunSample("DataGenerators", ["--output", file], TimeSpan.FromMinutes(1));

        SampleAssert.BadInput(run, file);
        Assert.That(File.ReadAllText(file), Is.EqualTo("a file, not a folder"));
    }

    [GeneratedRegex(@"batch \d+: x = \[(?<x>[a-z, ]+)\]  y = \[(?<y>[A-Z, ]+)\]")]
    private static partial Regex LetterBatch();
}

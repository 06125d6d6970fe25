using ImageCaptioning.Data;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Data;

public sealed class SplitAndFeatureSourceTests
{
    private static readonly CaptionCorpus Corpus = CaptionCorpus.Create(SyntheticCorpus.Captions(images: 50, perImage: 2, seed: 1));

    [Test]
    public void RandomSplitIsByImageSeededAndKeepsCorpusOrder()
    {
        var split = CaptionSplits.RandomByImage(Corpus, 0.8, seed: 3);

        Assert.That(split.Train.ImageCount, Is.EqualTo(40));
        Assert.That(split.Test.ImageCount, Is.EqualTo(10));
        Assert.That(split.Validation.ImageCount, Is.Zero);
        Assert.That(split.Train.ImageIds.Concat(split.Test.ImageIds), Is.EquivalentTo(Corpus.ImageIds));
        Assert.That(split.Train.ImageIds, Is.Ordered.Using<string>((a, b) => Position(a).CompareTo(Position(b))));
        Assert.That(split.Test[split.Test.ImageIds[0]], Is.EqualTo(Corpus[split.Test.ImageIds[0]]), "images keep all their captions");
        Assert.That(CaptionSplits.RandomByImage(Corpus, 0.8, seed: 3).Test.ImageIds, Is.EqualTo(split.Test.ImageIds));
        Assert.That(CaptionSplits.RandomByImage(Corpus, 0.8, seed: 4).Test.ImageIds, Is.Not.EqualTo(split.Test.ImageIds));
        Assert.That(CaptionSplits.RandomByImage(Corpus, 0.6, seed: 3, validationFraction: 0.2).Validation.ImageCount, Is.EqualTo(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptionSplits.RandomByImage(Corpus, 0.9, validationFraction: 0.2));

        static int Position(string id) => Corpus.ImageIds.ToList().IndexOf(id);
    }

    [Test]
    public void Flickr8kListsSelectImagesInListOrder()
    {
        using var directory = new TempDirectory();
        var ids = Corpus.ImageIds;
        File.WriteAllLines(directory.File("train.txt"), [ids[5], ids[1], ids[2]]);
        File.WriteAllLines(directory.File("dev.txt"), [ids[3]]);
        File.WriteAllLines(directory.File("test.txt"), [ids[4], ids[0]]);

        var split = CaptionSplits.Flickr8k(Corpus, directory.File("train.txt"), directory.File("dev.txt"), directory.File("test.txt"));

        Assert.That(split.Train.ImageIds, Is.EqualTo(new[] { ids[5], ids[1], ids[2] }));
        Assert.That(split.Validation.ImageIds, Is.EqualTo(new[] { ids[3] }));
        Assert.That(split.Test.ImageIds, Is.EqualTo(new[] { ids[4], ids[0] }));

        File.WriteAllLines(directory.File("test.txt"), [ids[4], "2258277193_586949ec62.jpg.1"]);
        var missing = Assert.Throws<KeyNotFoundException>(() => CaptionSplits.Flickr8k(Corpus, directory.File("train.txt"), null, directory.File("test.txt")))!;
        Assert.That(missing.Message, Does.Contain("2258277193_586949ec62.jpg.1"));
        Assert.Throws<ArgumentException>(() => CaptionSplits.FromImageLists(Corpus, [ids[0]], null, [ids[0]]));
    }

    [Test]
    public void KarpathySplitPutsRestvalIntoTrain()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dataset_coco.json");
        File.WriteAllText(path, """
            {"images": [{"filename": "a", "split": "train", "sentences": [{"raw": "x"}]}, {"filename": "b", "split": "restval", "sentences": [{"raw": "y"}]},
                        {"filename": "c", "split": "val", "sentences": [{"raw": "z"}]}, {"filename": "d", "split": "test", "sentences": [{"raw": "w"}]}]}
            """);
        var split = CaptionSplits.Karpathy(CaptionReader.ReadKarpathy(path));
        Assert.That(split.Train.ImageIds, Is.EqualTo(new[] { "a", "b" }));
        Assert.That((split.Validation.ImageIds.Single(), split.Test.ImageIds.Single()), Is.EqualTo(("c", "d")));
        Assert.That(CaptionSplits.Karpathy(CaptionReader.ReadKarpathy(path), restvalInTrain: false).Train.ImageIds, Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void InMemoryFeatureSourceReadsRowsIntoCallerBuffers()
    {
        IFeatureSource source = new InMemoryFeatureSource(["x", "y", "z"], 2, [1, 2, 3, 4, 5, 6]);

        Assert.That(source.TryGetRow("y", out var row), Is.True);
        Assert.That(row, Is.EqualTo(1));
        Assert.That(source.TryGetRow("w", out _), Is.False);
        var buffer = new float[4];
        source.Read([2, 0], buffer);
        Assert.That(buffer, Is.EqualTo(new float[] { 5, 6, 1, 2 }));
        source.Read("y", buffer.AsSpan(0, 2));
        Assert.That(buffer[..2], Is.EqualTo(new float[] { 3, 4 }));
        Assert.That(Assert.Throws<KeyNotFoundException>(() => source.Read("w", buffer.AsSpan(0, 2)))!.Message, Does.Contain("'w'"));
        Assert.Throws<ArgumentException>(() => source.Read(0, buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.Read(3, buffer.AsSpan(0, 2)));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new InMemoryFeatureSource(["x", "x"], 1, [1, 2]))!.Message, Does.Contain("'x'"));
    }
}

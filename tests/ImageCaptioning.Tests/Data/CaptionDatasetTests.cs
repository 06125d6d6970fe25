using ImageCaptioning.Data;
using ImageCaptioning.Text;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Data;

public sealed class CaptionDatasetTests
{
    private static (CaptionCorpus Corpus, WordTokenizer Tokenizer, InMemoryFeatureSource Features) Build(int images = 10, int perImage = 5, int dimension = 4, int seed = 5)
    {
        var corpus = new CaptionCleaner().Clean(CaptionCorpus.Create(SyntheticCorpus.Captions(images, perImage, seed))).Corpus;
        var tokenizer = WordTokenizer.Train(corpus.Entries().Select(e => e.Caption));
        return (corpus, tokenizer, SyntheticCorpus.Features(corpus.ImageIds, dimension));
    }

    private static List<(string Image, long[] Ids)> AllCaptions(CaptionCorpus corpus, WordTokenizer tokenizer) =>
        [.. corpus.Entries().Select(e => (e.ImageId, tokenizer.EncodeToIds(e.Caption).Select(id => (long)id).ToArray()))];

    [Test]
    public void FullSequenceShiftsInputsAndTargetsAndPads()
    {
        var (corpus, tokenizer, features) = Build();
        var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { BatchSize = 7, Shuffle = false });
        var expected = AllCaptions(corpus, tokenizer);
        var steps = dataset.Statistics.MaxLength - 1;

        Assert.That(dataset.Mode, Is.EqualTo(CaptionDatasetMode.FullSequence));
        Assert.That(dataset.Count, Is.EqualTo((50 + 6) / 7));
        using var batch = dataset[1];
        Assert.That((batch.SampleCount, batch.SequenceLength, batch.TargetsPerSample), Is.EqualTo((7, steps, steps)));
        for (var s = 0; s < batch.SampleCount; s++)
        {
            var (image, ids) = expected[7 + s];
            var n = ids.Length - 1;
            Assert.That(batch.Tokens.Slice(s * steps, steps).ToArray(), Is.EqualTo(ids[..^1].Concat(Enumerable.Repeat(0L, steps - n))));
            Assert.That(batch.Targets.Slice(s * steps, steps).ToArray(), Is.EqualTo(ids[1..].Concat(Enumerable.Repeat(0L, steps - n))));
            Assert.That(batch.Lengths[s], Is.EqualTo(n));
            var row = (int)batch.FeatureIndex[s];
            Assert.That(batch.ImageIds[row], Is.EqualTo(image));
            Assert.That(batch.Features.Slice(row * 4, 4).ToArray(), Is.EqualTo(SyntheticCorpus.Row(features, image)));
        }
        Assert.That(batch.ImageIds, Is.Unique, "a feature row is stored once per batch");
        Assert.That(dataset[dataset.Count - 1].SampleCount, Is.EqualTo(50 % 7));
    }

    [Test]
    public void ShuffledEpochsHoldEveryCaptionOnceAndAreReproducible()
    {
        var (corpus, tokenizer, features) = Build();
        var options = new CaptionDatasetOptions { BatchSize = 8, Seed = 4, DropLast = true };
        static List<string> Epoch(CaptionDataset dataset) => [.. dataset.SelectMany(batch =>
        {
            using (batch) return Enumerable.Range(0, batch.SampleCount).Select(s => $"{batch.ImageIds[(int)batch.FeatureIndex[s]]}:{batch.Lengths[s]}:{string.Join(',', batch.Tokens.Slice(s * batch.SequenceLength, (int)batch.Lengths[s]).ToArray())}").ToList();
        })];

        var dataset = CaptionDataset.Create(corpus, tokenizer, features, options);
        Assert.That(dataset.Count, Is.EqualTo(50 / 8));
        var first = Epoch(dataset);
        var second = Epoch(dataset);
        var unshuffled = Epoch(CaptionDataset.Create(corpus, tokenizer, features, options with { Shuffle = false, DropLast = false }));

        Assert.That(first, Has.Count.EqualTo(48));
        Assert.That(first, Is.SubsetOf(unshuffled));
        Assert.That(first, Is.Not.EqualTo(unshuffled.Take(48)));
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(Epoch(CaptionDataset.Create(corpus, tokenizer, features, options)), Is.EqualTo(first));
    }

    [Test]
    public void PadToLongestAndLengthBucketing()
    {
        var (corpus, tokenizer, features) = Build(images: 40, perImage: 5, seed: 8);
        var plain = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { BatchSize = 8, PadToLongest = true });
        var bucketed = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { BatchSize = 8, PadToLongest = true, BucketByLength = true, BucketWindowBatches = 100 });

        static List<long[]> Lengths(CaptionDataset dataset, out long paddedPositions)
        {
            var result = new List<long[]>();
            paddedPositions = 0;
            foreach (var batch in dataset)
            {
                using (batch)
                {
                    Assert.That(batch.SequenceLength, Is.EqualTo(batch.Lengths.ToArray().Max()), "padded to the longest in the batch");
                    paddedPositions += (long)batch.SampleCount * batch.SequenceLength;
                    result.Add(batch.Lengths.ToArray());
                }
            }
            return result;
        }

        var plainLengths = Lengths(plain, out var plainPadded);
        var bucketedLengths = Lengths(bucketed, out var bucketedPadded);

        Assert.That(bucketedLengths.SelectMany(l => l), Is.EquivalentTo(plainLengths.SelectMany(l => l)), "the same captions");
        for (var i = 0; i < bucketedLengths.Count; i++)
            for (var j = 0; j < bucketedLengths.Count; j++)
                if (i != j && bucketedLengths[i].Length == 8 && bucketedLengths[j].Length == 8)
                    Assert.That(bucketedLengths[i].Max() <= bucketedLengths[j].Min() || bucketedLengths[j].Max() <= bucketedLengths[i].Min(), Is.True, "one window: batches do not overlap in length");
        Assert.That(bucketedLengths.Select(l => l.Min()), Is.Not.Ordered, "batches come in shuffled order");
        Assert.That(bucketedPadded, Is.LessThan(plainPadded));
    }

    [Test]
    public void MissingFeaturesThrowOrAreSkippedAndCounted()
    {
        var (corpus, tokenizer, _) = Build();
        var partial = SyntheticCorpus.Features(corpus.ImageIds.Skip(3).ToArray(), 4);

        var error = Assert.Throws<MissingFeaturesException>(() => CaptionDataset.Create(corpus, tokenizer, partial))!;
        Assert.That(error.MissingCount, Is.EqualTo(3));
        Assert.That(error.FirstMissingIds, Is.EqualTo(corpus.ImageIds.Take(3)));
        Assert.That(error.Message, Does.Contain(corpus.ImageIds[0]).And.Contain(nameof(MissingFeaturePolicy.Skip)));

        var logger = new ListLogger();
        var dataset = CaptionDataset.Create(corpus, tokenizer, partial, new CaptionDatasetOptions { MissingFeatures = MissingFeaturePolicy.Skip }, logger);
        Assert.That(dataset.Statistics.MissingFeatureImages, Is.EqualTo(3));
        Assert.That(dataset.Statistics.Captions, Is.EqualTo(35));
        var seen = dataset.SelectMany(batch => { using (batch) return batch.ImageIds; }).ToList();
        Assert.That(seen, Is.Not.Empty.And.None.AnyOf(corpus.ImageIds.Take(3).ToArray()));
        Assert.That(logger.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Level == LogLevel.Warning && e.Message.Contains("Skipped 3 images")));
    }

    [Test]
    public void OverLongCaptionsAreTruncatedAndCounted()
    {
        var (corpus, tokenizer, features) = Build();
        var longest = AllCaptions(corpus, tokenizer).Max(c => c.Ids.Length);
        var expectedTruncated = AllCaptions(corpus, tokenizer).Count(c => c.Ids.Length > 5);
        var logger = new ListLogger();

        var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { MaxLength = 5, Shuffle = false }, logger);

        Assert.That(longest, Is.GreaterThan(5));
        Assert.That(dataset.Statistics.TruncatedCaptions, Is.EqualTo(expectedTruncated).And.GreaterThan(0));
        using var batch = dataset[0];
        Assert.That(batch.SequenceLength, Is.EqualTo(4));
        Assert.That(batch.Lengths.ToArray(), Has.All.LessThanOrEqualTo(4));
        Assert.That(logger.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Message.Contains($"Truncated {expectedTruncated} captions to 5")));
    }

    [Test]
    public void PrefixExpansionRandomAccessMatchesSequentialExpansion()
    {
        var (corpus, tokenizer, features) = Build();
        var captions = AllCaptions(corpus, tokenizer);
        var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { Mode = CaptionDatasetMode.PrefixExpansion, BatchSize = 16, Seed = 1 });
        var expected = captions.SelectMany(c => Enumerable.Range(1, c.Ids.Length - 1).Select(i => $"{c.Image}|{string.Join(',', c.Ids[..i])}|{c.Ids[i]}")).ToList();

        Assert.That(dataset.Statistics.Samples, Is.EqualTo(expected.Count));
        Assert.That(dataset.Count, Is.EqualTo((expected.Count + 15) / 16));
        var epoch = new List<string>();
        for (var b = dataset.Count - 1; b >= 0; b--)
        {
            using var batch = dataset[b];
            var samples = new List<string>();
            for (var s = 0; s < batch.SampleCount; s++)
            {
                var length = (int)batch.Lengths[s];
                var row = batch.Tokens.Slice(s * batch.SequenceLength, batch.SequenceLength).ToArray();
                Assert.That(row[length..], Has.All.EqualTo(0L), "right-padded with the pad id");
                samples.Add($"{batch.ImageIds[(int)batch.FeatureIndex[s]]}|{string.Join(',', row[..length])}|{batch.Targets[s]}");
            }
            epoch.InsertRange(0, samples);
        }
        Assert.That(epoch, Is.EquivalentTo(expected), "every prefix of every caption once, in any batch order of access");
        Assert.That(epoch, Is.Not.EqualTo(expected), "captions are shuffled");
    }

    [Test]
    public void BatchesReuseTheirBuffers()
    {
        var (corpus, tokenizer, features) = Build(images: 20, dimension: 4096);
        var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { Mode = CaptionDatasetMode.PrefixExpansion, BatchSize = 64, Shuffle = false });
        for (var b = 0; b < 3; b++) dataset[b].Dispose();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var b = 0; b < dataset.Count - 1; b++) dataset[b].Dispose();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(dataset.Count, Is.GreaterThan(10));
        Assert.That(allocated, Is.LessThan(64 * 4096 * sizeof(float)), "not one feature array allocated over all the batches");
        var disposed = dataset[0];
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _ = disposed.Features.Length);
    }

    [Test]
    public void PrefetchedEpochsReuseTheSameBuffers()
    {
        // Rows of 16,384 floats: a batch's feature array (1 MiB) dwarfs what threads and batch objects allocate.
        var (corpus, tokenizer, features) = Build(images: 20, dimension: 16_384);
        var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { BatchSize = 16 });
        var prefetch = new PrefetchOptions { Workers = 2, MaxQueueSize = 4 };
        void RunEpochs(int epochs)
        {
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                var taken = 0;
                foreach (var batch in dataset.Prefetch(prefetch))
                {
                    batch.Dispose();
                    // Every other epoch is abandoned with batches still queued: those must come back too.
                    if (epoch % 2 == 1 && ++taken == 2) break;
                }
            }
        }
        RunEpochs(2);

        // Buffers are rented on the workers and returned on this thread: count every thread's allocations.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        RunEpochs(20);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // The pool only grows to the most batches ever in flight at once (workers + queue + the consumer's), which a
        // warm-up may not have reached; without pooling, 20 epochs would allocate one array per batch.
        var featureArray = 16L * 16_384 * sizeof(float);
        var inFlight = prefetch.Workers + prefetch.MaxQueueSize + 1;
        Assert.That(dataset.Count, Is.GreaterThan(4));
        Assert.That(allocated, Is.LessThan(inFlight * featureArray), $"allocations bounded by the {inFlight} batches in flight, not by the batches built");
        Assert.That(inFlight, Is.LessThan(10 * dataset.Count / 2), "the bound is far below one array per batch");
    }

    [Test]
    public void ToTensorsCopiesEveryPartAndExpandsFeaturesOnTheDevice()
    {
        var (corpus, tokenizer, features) = Build();
        foreach (var mode in new[] { CaptionDatasetMode.FullSequence, CaptionDatasetMode.PrefixExpansion })
        {
            var dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { Mode = mode, BatchSize = 12 });
            using var batch = dataset[0];
            using var tensors = batch.ToTensors(torch.CPU);
            long n = batch.SampleCount, t = batch.SequenceLength;

            Assert.That(tensors.Features.shape, Is.EqualTo(new long[] { batch.ImageRowCount, 4 }));
            Assert.That(tensors.Features.dtype, Is.EqualTo(ScalarType.Float32));
            Assert.That(tensors.Tokens.shape, Is.EqualTo(new[] { n, t }));
            Assert.That(tensors.Targets.shape, Is.EqualTo(mode == CaptionDatasetMode.FullSequence ? new[] { n, t } : new[] { n }));
            Assert.That(tensors.Lengths.dtype, Is.EqualTo(ScalarType.Int64));
            Assert.That(tensors.Tokens.ToArray<long>(), Is.EqualTo(batch.Tokens.ToArray()));
            Assert.That(tensors.Targets.ToArray<long>(), Is.EqualTo(batch.Targets.ToArray()));
            Assert.That(tensors.Lengths.ToArray<long>(), Is.EqualTo(batch.Lengths.ToArray()));
            using var expanded = tensors.SampleFeatures();
            var perSample = Enumerable.Range(0, batch.SampleCount)
                .SelectMany(s => SyntheticCorpus.Row(features, batch.ImageIds[(int)batch.FeatureIndex[s]]));
            Assert.That(expanded.ToArray<float>(), Is.EqualTo(perSample));
        }
    }
}

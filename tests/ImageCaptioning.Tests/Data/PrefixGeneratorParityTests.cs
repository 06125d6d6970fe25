using System.Globalization;
using System.Text.Json;
using ImageCaptioning.Data;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Data;

/// <summary>PrefixExpansion against the recipe's Python generator, run by reference/data_prefix_generator.py.</summary>
public sealed class PrefixGeneratorParityTests
{
    [TestCase(null)]
    [TestCase(8)]
    public void BatchesMatchThePythonGeneratorBatchForBatch(int? maxLength)
    {
        PythonReference.Require("json", "csv");
        using var directory = new TempDirectory();
        const int batchSize = 64, dimension = 3;
        var captionsPath = directory.File("captions.txt");
        SyntheticCorpus.WriteCsv(captionsPath, SyntheticCorpus.Captions(images: 12, perImage: 5, seed: 11));
        var cleaned = new CaptionCleaner().Clean(CaptionReader.ReadFlickr8kCsv(captionsPath)).Corpus;
        var tokenizer = WordTokenizer.Train(cleaned.Entries().Select(entry => entry.Caption));
        var features = SyntheticCorpus.Features(cleaned.ImageIds, dimension);
        var featuresPath = directory.File("features.json");
        File.WriteAllText(featuresPath, JsonSerializer.Serialize(cleaned.ImageIds.ToDictionary(id => id, id => SyntheticCorpus.Row(features, id))));

        var dataset = CaptionDataset.Create(cleaned, tokenizer, features, new CaptionDatasetOptions
        {
            Mode = CaptionDatasetMode.PrefixExpansion, BatchSize = batchSize, Shuffle = false, MaxLength = maxLength,
        });
        var samples = dataset.Statistics.Samples;
        var remainder = (int)(samples % batchSize);
        Assert.That(dataset.Count, Is.EqualTo((samples + batchSize - 1) / batchSize));
        Assert.That(remainder, Is.GreaterThan(0), "the corpus is chosen so that the last batch is partial");

        var output = PythonReference.Run("data_prefix_generator.py", captionsPath, featuresPath,
            batchSize.ToString(CultureInfo.InvariantCulture), maxLength?.ToString(CultureInfo.InvariantCulture) ?? "none",
            dataset.Count.ToString(CultureInfo.InvariantCulture));
        var pythonBatches = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(pythonBatches, Has.Length.EqualTo(dataset.Count));

        for (var b = 0; b < dataset.Count; b++)
        {
            using var batch = dataset[b];
            using var expected = JsonDocument.Parse(pythonBatches[b]);
            // Python's generator runs on past the epoch: its last batch starts with our partial batch.
            var count = b == dataset.Count - 1 ? remainder : batchSize;
            Assert.That(batch.SampleCount, Is.EqualTo(count));
            Assert.That(batch.SequenceLength, Is.EqualTo(dataset.Statistics.MaxLength));
            Assert.That(batch.ImageRowCount, Is.LessThan(count / 5 + 3), "each image's features are stored once per batch");
            var images = expected.RootElement.GetProperty("x_img").EnumerateArray().ToArray();
            var sequences = expected.RootElement.GetProperty("x_seq").EnumerateArray().ToArray();
            var targets = expected.RootElement.GetProperty("y").EnumerateArray().ToArray();
            for (var s = 0; s < count; s++)
            {
                var row = (int)batch.FeatureIndex[s];
                Assert.That(batch.Features.Slice(row * dimension, dimension).ToArray(), Is.EqualTo(images[s].EnumerateArray().Select(v => v.GetSingle())), $"batch {b} sample {s} features");
                Assert.That(batch.Tokens.Slice(s * batch.SequenceLength, batch.SequenceLength).ToArray(), Is.EqualTo(sequences[s].EnumerateArray().Select(v => v.GetInt64())), $"batch {b} sample {s} tokens");
                Assert.That(batch.Targets[s], Is.EqualTo(targets[s].GetInt64()), $"batch {b} sample {s} target");
            }
        }
    }
}

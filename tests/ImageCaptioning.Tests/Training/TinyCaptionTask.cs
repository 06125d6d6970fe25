using ImageCaptioning.Data;
using ImageCaptioning.Modeling;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// A captioning task small enough to train in a second: 20 images × 3 captions over ~26 words, 16-d features.
/// Each image's captions share words chosen from its features, so a model can learn something.
/// </summary>
internal sealed class TinyCaptionTask
{
    public const int Dimension = 16;
    private static readonly string[] Words =
    [
        "dog", "cat", "runs", "on", "the", "grass", "man", "red", "ball", "jumps", "over", "water", "child", "plays",
        "in", "park", "two", "people", "sit", "bench", "white", "black",
    ];

    public TinyCaptionTask(int images = 20, int captionsPerImage = 3, int seed = 1)
    {
        var random = new Random(seed);
        var entries = new List<ImageCaption>();
        var ids = new List<string>();
        var values = new List<float>();
        for (var image = 0; image < images; image++)
        {
            var id = $"img{image:D3}.jpg";
            ids.Add(id);
            var theme = Enumerable.Range(0, 4).Select(_ => Words[random.Next(Words.Length)]).ToArray();
            for (var d = 0; d < Dimension; d++) values.Add((float)(random.NextDouble() * 2 - 1));
            for (var k = 0; k < captionsPerImage; k++)
            {
                var length = random.Next(3, 8);
                var words = Enumerable.Range(0, length).Select(i => random.Next(4) == 0 ? Words[random.Next(Words.Length)] : theme[i % theme.Length]);
                entries.Add(new ImageCaption(id, "startseq " + string.Join(' ', words) + " endseq"));
            }
        }
        Corpus = CaptionCorpus.Create(entries);
        Tokenizer = WordTokenizer.Train(entries.Select(e => e.Caption));
        Features = new InMemoryFeatureSource(ids, Dimension, values.ToArray());
    }

    public CaptionCorpus Corpus { get; }

    public WordTokenizer Tokenizer { get; }

    public InMemoryFeatureSource Features { get; }

    public CaptionDataset Dataset(CaptionDatasetMode mode = CaptionDatasetMode.FullSequence, int batchSize = 8, int seed = 3, CaptionCorpus? corpus = null) =>
        CaptionDataset.Create(corpus ?? Corpus, Tokenizer, Features, new CaptionDatasetOptions { Mode = mode, BatchSize = batchSize, Seed = seed });

    public CaptionModelOptions ModelOptions(double dropout = 0.2, CaptionArchitecture architecture = CaptionArchitecture.InitInject) => new()
    {
        Architecture = architecture,
        VocabularySize = Tokenizer.VocabularySize,
        FeatureDimension = Dimension,
        EmbeddingSize = 12,
        HiddenSize = 16,
        Dropout = dropout,
        PadId = Tokenizer.PadId,
    };

    /// <summary>A fresh model whose initial weights depend only on <paramref name="seed"/>.</summary>
    public CaptionModel Model(int seed = 11, double dropout = 0.2, CaptionArchitecture architecture = CaptionArchitecture.InitInject)
    {
        torch.manual_seed(seed);
        return CaptionModel.Create(ModelOptions(dropout, architecture));
    }

    /// <summary>The trainer settings of the training tests: a high learning rate, clipping, seed 42, batches prefetched by default.</summary>
    public static CaptionTrainerOptions TrainerOptions(LossMode mode, int epochs, string? directory = null) => new()
    {
        Epochs = epochs,
        Mode = mode,
        LearningRate = 5e-3,
        GradientClipNorm = 1.0,
        Seed = 42,
        CheckpointDirectory = directory,
    };

    /// <summary>The dataset mode <paramref name="mode"/> trains on.</summary>
    public static CaptionDatasetMode DatasetMode(LossMode mode) =>
        mode == LossMode.FullSequence ? CaptionDatasetMode.FullSequence : CaptionDatasetMode.PrefixExpansion;

    /// <summary>Asserts the same parameters, bit for bit.</summary>
    public static void AssertSameWeights(Dictionary<string, float[]> actual, Dictionary<string, float[]> expected, string run = "the uninterrupted run")
    {
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (key, values) in expected)
            Assert.That(actual[key], Is.EqualTo(values), $"{key} differs from {run}");
    }

    /// <summary>Every parameter's values, by key.</summary>
    public static Dictionary<string, float[]> Weights(CaptionModel model) =>
        model.state_dict().ToDictionary(pair => pair.Key, pair => pair.Value.ToArray<float>());
}

/// <summary>An <see cref="IProgress{T}"/> that runs its handler synchronously, on the training thread.</summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

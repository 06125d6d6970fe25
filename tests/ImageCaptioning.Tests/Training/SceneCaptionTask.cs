using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Text;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// The synthetic captioned scenes with features made from what each scene shows: for each of the nine grid cells, a
/// one-hot shape, colour and size of the object in it (zeros for an empty cell). Informative features without a CNN,
/// so that a small model learns real captions in seconds. The scenes and captions are the generator's
/// (<see cref="SyntheticCaptionedImages.Describe"/>, the list <c>Generate</c> writes), nothing is drawn.
/// </summary>
internal sealed class SceneCaptionTask
{
    private static readonly int Shapes = Enum.GetValues<SyntheticShape>().Length;
    private static readonly int Sizes = Enum.GetValues<SyntheticSize>().Length;

    public SceneCaptionTask(SyntheticDatasetOptions options, int splitSeed = 0)
    {
        var generator = new SyntheticCaptionedImages(options);
        var images = generator.Describe();
        var colors = options.Colors.Select(c => c.Name).ToList();
        var cell = Shapes + colors.Count + Sizes;
        Dimension = 9 * cell;
        var values = new float[images.Count * Dimension];
        for (var i = 0; i < images.Count; i++)
        {
            foreach (var item in images[i].Scene.Objects)
            {
                var offset = i * Dimension + (int)item.Position * cell;
                values[offset + (int)item.Shape] = 1;
                values[offset + Shapes + colors.IndexOf(item.Color.Name)] = 1;
                values[offset + Shapes + colors.Count + (int)item.Size] = 1;
            }
        }
        Features = new InMemoryFeatureSource([.. images.Select(i => i.ImageId)], Dimension, values);
        var corpus = new CaptionCleaner().Clean(CaptionCorpus.Create(images.SelectMany(i => i.Captions.Select(c => new ImageCaption(i.ImageId, c))))).Corpus;
        Split = CaptionSplits.RandomByImage(corpus, 0.7, splitSeed, validationFraction: 0.1);
        Tokenizer = WordTokenizer.Train(Split.Train.Entries().Select(e => e.Caption));
    }

    public int Dimension { get; }

    public InMemoryFeatureSource Features { get; }

    public CaptionSplit Split { get; }

    public WordTokenizer Tokenizer { get; }

    public CaptionDataset Dataset(CaptionCorpus part, int batchSize = 32, int seed = 3) =>
        CaptionDataset.Create(part, Tokenizer, Features, new CaptionDatasetOptions { BatchSize = batchSize, Seed = seed });

    /// <summary>A fresh init-inject LSTM whose initial weights depend only on <paramref name="seed"/>.</summary>
    public CaptionModel Model(int seed, int hiddenSize = 48, double dropout = 0.2)
    {
        torch.manual_seed(seed);
        return CaptionModel.Create(new CaptionModelOptions
        {
            VocabularySize = Tokenizer.VocabularySize,
            FeatureDimension = Dimension,
            EmbeddingSize = 32,
            HiddenSize = hiddenSize,
            Dropout = dropout,
            PadId = Tokenizer.PadId,
        });
    }

    /// <summary>Corpus CIDEr-D of the model's greedy captions of <paramref name="part"/>'s images, scored as the library evaluates a test split.</summary>
    public double CiderD(CaptionModel model, CaptionCorpus part, int maxLength = 20)
    {
        var decoder = new CaptionDecoder(model, Tokenizer.StartId, Tokenizer.EndId);
        var items = new List<(string, string, IReadOnlyList<string>)>();
        var row = new float[Dimension];
        using var scope = torch.NewDisposeScope();
        foreach (var id in part.ImageIds)
        {
            Features.TryGetRow(id, out var index);
            Features.Read(index, row);
            var caption = decoder.Decode(torch.tensor(row, [1, Dimension]), DecodingOptions.Greedy with { MaxLength = maxLength })[0];
            var references = part[id].Select(c => string.Join(' ', c.Split(' ').Where(w => w is not ("startseq" or "endseq")))).ToArray();
            items.Add((id, Tokenizer.Decode(caption.Tokens, skipSpecialTokens: true), references));
        }
        return CaptionMetrics.Evaluate(items).CiderD;
    }
}

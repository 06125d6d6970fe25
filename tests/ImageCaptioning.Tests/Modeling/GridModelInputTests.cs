using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// The grid models read what a dataset holds: flattened channels-last rows, once per distinct image through a
/// feature index, exactly as they read an explicit [B, P, C] grid per caption.
/// </summary>
[Kernels]
public sealed class GridModelInputTests
{
    private const int Vocabulary = 17, Pad = 0, Start = 1, End = 2, Cells = 4, Channels = 6;

    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData((Func<CaptionModel>)(() => new SoftAttentionCaptionModel(new SoftAttentionOptions
        {
            VocabularySize = Vocabulary, FeatureDimension = Channels, GridCells = Cells, EmbeddingSize = 8, HiddenSize = 10, AttentionSize = 7, PadId = Pad,
        }))).SetName("SoftAttention");
        yield return new TestCaseData((Func<CaptionModel>)(() => new TransformerCaptionModel(new TransformerCaptionOptions
        {
            VocabularySize = Vocabulary, FeatureDimension = Channels, GridCells = Cells, ModelDimension = 8, Heads = 2, Layers = 2, FeedForwardSize = 12,
            MaxPositions = 16, PadId = Pad,
        }))).SetName("Transformer");
    }

    [TestCaseSource(nameof(Models))]
    public void FlattenedRowsThroughAFeatureIndexGiveTheLossAndGradientsOfRepeatedGrids(Func<CaptionModel> create)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var model = create();
        Assert.That(model.InputDimension, Is.EqualTo(Cells * Channels));
        var images = torch.randn([2, Cells, Channels]);
        var index = torch.tensor(new long[] { 0, 1, 1, 0, 1 });
        // Captions of lengths 5, 2, 4, 1 and 3 real targets, right-padded.
        var inputs = torch.tensor(new long[,] { { 1, 5, 6, 7, 8 }, { 1, 9, 0, 0, 0 }, { 1, 3, 4, 5, 0 }, { 1, 0, 0, 0, 0 }, { 1, 10, 11, 0, 0 } });
        var targets = torch.tensor(new long[,] { { 5, 6, 7, 8, 2 }, { 9, 2, 0, 0, 0 }, { 3, 4, 5, 2, 0 }, { 2, 0, 0, 0, 0 }, { 10, 11, 2, 0, 0 } });

        var repeated = model.Loss(images.index_select(0, index), inputs, targets);
        repeated.backward();
        var expectedGradients = model.parameters().Select(p => p.grad!.clone()).ToArray();
        model.zero_grad();
        var indexed = model.Loss(images.reshape(2, -1), inputs, targets, index);
        indexed.backward();

        Assert.That(indexed.ToDouble(), Is.EqualTo(repeated.ToDouble()).Within(1e-6));
        var parameters = model.parameters().ToArray();
        for (var i = 0; i < parameters.Length; i++)
            Assert.That(parameters[i].grad!.sub(expectedGradients[i]).abs().max().ToDouble(), Is.LessThan(1e-5), $"gradient {i}");
    }

    [TestCaseSource(nameof(Models))]
    public void DecodingFlattenedRowsEqualsDecodingTheGrid(Func<CaptionModel> create)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(8);
        using var model = create();
        var grid = torch.randn([3, Cells, Channels]);
        var options = DecodingOptions.Greedy with { MaxLength = 6 };
        var fromGrid = model.Decode(grid, Start, End, options);
        var fromRows = model.Decode(grid.reshape(3, -1), Start, End, options);
        Assert.That(fromRows.Select(c => c.Tokens), Is.EqualTo(fromGrid.Select(c => c.Tokens)));
        Assert.That(fromRows.Select(c => c.LogProbability), Is.EqualTo(fromGrid.Select(c => c.LogProbability)).Within(1e-5));
    }

    [TestCaseSource(nameof(Models))]
    public void DecodingReportsTheGridAndOneAttentionRowPerWord(Func<CaptionModel> create)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        using var model = create();
        Assert.That(model.AttentionGrid, Is.EqualTo((2, 2)));
        var captions = model.Decode(torch.randn([2, Cells * Channels]), Start, End, DecodingOptions.Greedy with { MaxLength = 5 })
            .Concat(model.Decode(torch.randn([2, Cells * Channels]), Start, End, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 2, MaxLength = 5 }));
        foreach (var caption in captions)
        {
            Assert.That(caption.Attention, Has.Count.EqualTo(caption.Tokens.Count));
            foreach (var row in caption.Attention) Assert.That(row.Sum(), Is.EqualTo(1).Within(1e-5));
        }
    }
}

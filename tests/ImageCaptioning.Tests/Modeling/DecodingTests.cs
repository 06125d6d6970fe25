using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

[TestFixture]
[Kernels]
public sealed class DecodingTests
{
    private const int Vocabulary = 30, Start = 2, End = 3, Dim = 16;

    private static LstmCaptionModel NewModel(CaptionArchitecture architecture = CaptionArchitecture.InitInject, int seed = 7)
    {
        torch.manual_seed(seed);
        var model = CaptionModel.Create(new CaptionModelOptions
        {
            Architecture = architecture, VocabularySize = Vocabulary, FeatureDimension = Dim, EmbeddingSize = 12, HiddenSize = 12,
        });
        // Sharpen the output layer so captions end within the limit and decisions are not near-ties.
        using var scope = torch.NewDisposeScope();
        var fc = model.state_dict()["fc.weight"];
        using (torch.no_grad()) fc.copy_(fc * 6);
        return model;
    }

    [TestCase(CaptionArchitecture.InitInject)]
    [TestCase(CaptionArchitecture.Merge)]
    public void GreedyEqualsArgmaxOfRerunningThePrefix(CaptionArchitecture architecture)
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel(architecture);
        model.eval();
        var features = torch.randn([3, Dim]);
        var decoded = new CaptionDecoder(model, Start, End).Decode(features, DecodingOptions.Greedy with { MaxLength = 12 });
        for (var i = 0; i < 3; i++)
        {
            // The recipe's way: feed the whole prefix every step and take the last position's argmax.
            var prefix = new List<long> { Start };
            var row = features.narrow(0, i, 1);
            var expected = new List<int>();
            using (torch.no_grad())
            {
                for (var step = 0; step < 12; step++)
                {
                    var logits = model.forward(row, torch.tensor(prefix.ToArray(), [1, prefix.Count]));
                    var next = (int)logits.select(1, prefix.Count - 1).argmax(1).item<long>();
                    if (next == End) break;
                    expected.Add(next);
                    prefix.Add(next);
                }
            }
            Assert.That(decoded[i].Tokens, Is.EqualTo(expected), $"image {i}");
        }
    }

    [TestCase(CaptionArchitecture.InitInject, 7)]
    [TestCase(CaptionArchitecture.Merge, 6)]
    public void CaptionsThatEndLeaveTheBatchAndTheOthersDecodeAsIfAlone(CaptionArchitecture architecture, int seed)
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel(architecture, seed);
        // Strong image features, so that the image (not only the shared prefix) decides when each caption ends.
        var features = torch.randn([16, Dim]) * 4.0;
        var decoder = new CaptionDecoder(model, Start, End);
        var options = DecodingOptions.Greedy with { MaxLength = 12 };
        var batched = decoder.Decode(features, options);
        Assert.That(batched.Select(c => c.Tokens.Count).Distinct().Count(), Is.GreaterThan(1),
            "precondition: captions of several lengths, so rows leave the batch at different steps; lengths " +
            string.Join(",", batched.Select(c => c.Tokens.Count)));
        Assert.That(batched.Count(c => c.Finished), Is.GreaterThan(0), "precondition: some captions end");
        for (var i = 0; i < 16; i++)
        {
            var alone = decoder.Decode(features.narrow(0, i, 1), options)[0];
            Assert.That(batched[i].Tokens, Is.EqualTo(alone.Tokens), $"image {i}");
            Assert.That(batched[i].Finished, Is.EqualTo(alone.Finished), $"image {i} finished");
            Assert.That(batched[i].LogProbability, Is.EqualTo(alone.LogProbability).Within(1e-4), $"image {i} log p");
        }
    }

    [Test]
    public void BeamWidthOneEqualsGreedy()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([5, Dim]);
        var decoder = new CaptionDecoder(model, Start, End);
        var greedy = decoder.Decode(features, DecodingOptions.Greedy with { MaxLength = 15 });
        var beam = decoder.Decode(features, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 1, MaxLength = 15 });
        for (var i = 0; i < 5; i++)
        {
            Assert.That(beam[i].Tokens, Is.EqualTo(greedy[i].Tokens), $"image {i}");
            Assert.That(beam[i].Finished, Is.EqualTo(greedy[i].Finished));
            Assert.That(beam[i].LogProbability, Is.EqualTo(greedy[i].LogProbability).Within(1e-4));
        }
    }

    [Test]
    public void WiderBeamsNeverScoreWorseThanGreedyOnTotalLogProbability()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([6, Dim]);
        var decoder = new CaptionDecoder(model, Start, End);
        var greedy = decoder.Decode(features, DecodingOptions.Greedy);
        var beam = decoder.Decode(features, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 5, LengthPenalty = 0 });
        for (var i = 0; i < 6; i++)
            if (greedy[i].Finished)
                Assert.That(beam[i].LogProbability, Is.GreaterThanOrEqualTo(greedy[i].LogProbability - 1e-5), $"image {i}");
    }

    [TestCase(DecodingStrategy.Beam)]
    [TestCase(DecodingStrategy.Greedy)]
    public void ModelThatNeverEndsReturnsMaxLengthCaption(DecodingStrategy strategy)
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        using (torch.no_grad()) model.state_dict()["fc.bias"].select(0, End).fill_(-1e9);
        var decoded = new CaptionDecoder(model, Start, End)
            .Decode(torch.randn([4, Dim]), new DecodingOptions { Strategy = strategy, BeamWidth = 3, MaxLength = 9 });
        Assert.That(decoded.Select(d => d.Tokens.Count), Is.All.EqualTo(9));
        Assert.That(decoded.Select(d => d.Finished), Is.All.False);
        Assert.That(decoded.SelectMany(d => d.Tokens), Does.Not.Contain(End));
    }

    [Test]
    public void SamplingIsSeededAndTemperatureIsApplied()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([1, Dim]).expand(64, Dim).contiguous();
        var decoder = new CaptionDecoder(model, Start, End);
        IReadOnlyList<DecodedCaption> Sample(double temperature, long seed, int topK = 0) =>
            decoder.Decode(features, new DecodingOptions { Strategy = DecodingStrategy.Sample, Temperature = temperature, Seed = seed, TopK = topK, MaxLength = 10 });
        int Distinct(IReadOnlyList<DecodedCaption> d) => d.Select(c => string.Join(",", c.Tokens)).Distinct().Count();

        Assert.That(Sample(1.0, 4).Select(c => c.Tokens), Is.EqualTo(Sample(1.0, 4).Select(c => c.Tokens)), "same seed, same captions");
        var greedy = decoder.Decode(features.narrow(0, 0, 1), DecodingOptions.Greedy with { MaxLength = 10 })[0].Tokens;
        Assert.That(Sample(1e-4, 1).Select(c => c.Tokens), Is.All.EqualTo(greedy), "a near-zero temperature is greedy");
        Assert.That(Sample(1.0, 1, topK: 1).Select(c => c.Tokens), Is.All.EqualTo(greedy), "top-1 is greedy");
        Assert.That(Distinct(Sample(5.0, 2)), Is.GreaterThan(Distinct(Sample(0.5, 2))), "a higher temperature gives more varied captions");
    }

    [Test]
    public void ScoresCanBeTurnedOffWithoutChangingTheCaptions()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([4, Dim]);
        var decoder = new CaptionDecoder(model, Start, End);
        var scored = decoder.Decode(features, DecodingOptions.Greedy);
        var unscored = decoder.Decode(features, DecodingOptions.Greedy with { ComputeLogProbability = false });
        Assert.That(unscored.Select(c => c.Tokens), Is.EqualTo(scored.Select(c => c.Tokens)));
        Assert.That(unscored.Select(c => c.LogProbability), Is.All.NaN);
        Assert.That(scored.Select(c => c.LogProbability), Is.All.LessThan(0));
    }

    [Test]
    public void RejectsBadInput()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        Assert.Throws<ArgumentOutOfRangeException>(() => new CaptionDecoder(model, Vocabulary, End));
        var decoder = new CaptionDecoder(model, Start, End);
        Assert.Throws<ArgumentException>(() => decoder.Decode(torch.randn([2, Dim + 1])));
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Decode(torch.randn([2, Dim]), new DecodingOptions { Temperature = 0 }));
    }
}

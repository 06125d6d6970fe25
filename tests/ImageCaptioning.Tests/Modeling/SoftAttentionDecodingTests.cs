using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// SoftAttentionCaptionModel.Decode by each strategy, checked against teacher forcing on the captions it returns:
/// the scores and attention rows a caption carries must be the ones the model gives that caption read whole.
/// </summary>
[TestFixture]
[Kernels]
public sealed class SoftAttentionDecodingTests
{
    private const int Vocabulary = 30, Cells = 6, Channels = 16, Pad = 0, Start = 1, End = 2;

    private static SoftAttentionCaptionModel NewModel(int seed = 5)
    {
        torch.manual_seed(seed);
        // Dropout is set so that a decode that left training mode on would differ from teacher forcing in eval mode.
        var model = new SoftAttentionCaptionModel(new SoftAttentionOptions
        {
            VocabularySize = Vocabulary, FeatureDimension = Channels, EmbeddingSize = 12, HiddenSize = 20, AttentionSize = 10,
            PadId = Pad, Dropout = 0.5,
        });
        // Sharpen the output layer so captions end within the limit and decisions are not near-ties.
        using var scope = torch.NewDisposeScope();
        var fc = model.state_dict()["fc.weight"];
        using (torch.no_grad()) fc.copy_(fc * 6);
        return model;
    }

    private static DecodingOptions Beam(int width, double lengthPenalty = 1, int maxLength = 12) =>
        new() { Strategy = DecodingStrategy.Beam, BeamWidth = width, LengthPenalty = lengthPenalty, MaxLength = maxLength };

    // The caption read whole: the sum of the log-probabilities of its tokens (and of the end token when it ended),
    // and the attention row of each token.
    private static (double LogProbability, float[][] Attention) TeacherForced(SoftAttentionCaptionModel model, Tensor features, int image, DecodedCaption caption)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = model.training;
        model.eval();
        var prefix = new[] { (long)Start }.Concat(caption.Tokens.Select(t => (long)t)).ToArray();
        var (logits, attention) = model.forward(features.narrow(0, image, 1), torch.tensor(prefix, [1, prefix.Length]));
        model.train(wasTraining);
        var logProbabilities = logits[0].log_softmax(1).data<float>().ToArray();
        var targets = caption.Tokens.Concat(caption.Finished ? [End] : Array.Empty<int>()).ToArray();
        var total = targets.Select((token, t) => (double)logProbabilities[t * Vocabulary + token]).Sum();
        var rows = attention[0].data<float>().ToArray();
        return (total, Enumerable.Range(0, caption.Tokens.Count).Select(t => rows.AsSpan(t * Cells, Cells).ToArray()).ToArray());
    }

    [Test]
    public void BeamWidthOneEqualsGreedy()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([5, Cells, Channels]);
        var greedy = model.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = 12 });
        var beam = model.Decode(features, Start, End, Beam(1));
        for (var i = 0; i < 5; i++)
        {
            Assert.That(beam[i].Tokens, Is.EqualTo(greedy[i].Tokens), $"image {i}");
            Assert.That(beam[i].Finished, Is.EqualTo(greedy[i].Finished), $"image {i} finished");
            Assert.That(beam[i].LogProbability, Is.EqualTo(greedy[i].LogProbability).Within(1e-4), $"image {i} log p");
            Assert.That(beam[i].Attention, Is.EqualTo(greedy[i].Attention).Within(1e-6), $"image {i} attention");
        }
    }

    [Test]
    public void GreedyScoreIsTheTeacherForcedScoreOfItsCaption()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([4, Cells, Channels]);
        var greedy = model.Decode(features, Start, End);
        for (var i = 0; i < greedy.Count; i++)
            Assert.That(greedy[i].LogProbability, Is.EqualTo(TeacherForced(model, features, i, greedy[i]).LogProbability).Within(1e-4), $"image {i}");
    }

    [Test]
    public void WiderBeamsScoreAtLeastGreedyAndCarryTheirOwnAttention()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([8, Cells, Channels]);
        var greedy = model.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = 12 });
        var beam = model.Decode(features, Start, End, Beam(5, lengthPenalty: 0));
        Assert.That(model.training, Is.True, "decoding restores training mode");
        Assert.That(Enumerable.Range(0, 8).Any(i => !beam[i].Tokens.SequenceEqual(greedy[i].Tokens)), Is.True,
            "precondition: some beam caption is not the greedy one, so beams were reordered");
        for (var i = 0; i < 8; i++)
        {
            var (beamScore, beamAttention) = TeacherForced(model, features, i, beam[i]);
            Assert.That(beam[i].LogProbability, Is.EqualTo(beamScore).Within(1e-4), $"image {i}: the beam's score is its caption's");
            Assert.That(beam[i].Attention, Has.Count.EqualTo(beam[i].Tokens.Count), $"image {i}: one attention row per token");
            Assert.That(beam[i].Attention, Is.EqualTo(beamAttention).Within(1e-5), $"image {i}: the rows its caption was read with");
            Assert.That(beamScore, Is.GreaterThanOrEqualTo(TeacherForced(model, features, i, greedy[i]).LogProbability - 1e-5), $"image {i}: beam against greedy");
        }
    }

    [Test]
    public void FinishedBeamsStopAndBatchedImagesDecodeAsIfAlone()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel(seed: 6);
        var features = torch.randn([10, Cells, Channels]) * 3.0;
        var options = Beam(3, maxLength: 10);
        var batched = model.Decode(features, Start, End, options);
        Assert.That(batched.Select(c => c.Tokens.Count).Distinct().Count(), Is.GreaterThan(1), "precondition: images finish at different steps");
        Assert.That(batched.Count(c => c.Finished), Is.GreaterThan(0), "precondition: some captions end");
        for (var i = 0; i < batched.Count; i++)
        {
            Assert.That(batched[i].Tokens, Does.Not.Contain(End), $"image {i}: a beam stops at the end token");
            if (batched[i].Finished) Assert.That(batched[i].Tokens, Has.Count.LessThan(options.MaxLength), $"image {i}: the end token counts towards the limit");
            var alone = model.Decode(features.narrow(0, i, 1), Start, End, options)[0];
            Assert.That(batched[i].Tokens, Is.EqualTo(alone.Tokens), $"image {i}");
            Assert.That(batched[i].Finished, Is.EqualTo(alone.Finished), $"image {i} finished");
            Assert.That(batched[i].LogProbability, Is.EqualTo(alone.LogProbability).Within(1e-4), $"image {i} log p");
            Assert.That(batched[i].Attention, Is.EqualTo(alone.Attention).Within(1e-5), $"image {i} attention");
        }
    }

    [TestCase(DecodingStrategy.Greedy)]
    [TestCase(DecodingStrategy.Sample)]
    [TestCase(DecodingStrategy.Beam)]
    public void ModelThatNeverEndsReturnsMaxLengthCaptionsWithEveryRow(DecodingStrategy strategy)
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        using (torch.no_grad()) model.state_dict()["fc.bias"].select(0, End).fill_(-1e9);
        var decoded = model.Decode(torch.randn([4, Cells, Channels]), Start, End, new DecodingOptions { Strategy = strategy, BeamWidth = 3, MaxLength = 9, Seed = 3 });
        Assert.That(decoded.Select(d => d.Tokens.Count), Is.All.EqualTo(9));
        Assert.That(decoded.Select(d => d.Attention.Count), Is.All.EqualTo(9));
        Assert.That(decoded.Select(d => d.Finished), Is.All.False);
    }

    [Test]
    public void SamplingIsSeededAndANearZeroTemperatureIsGreedy()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        var features = torch.randn([1, Cells, Channels]).expand(32, Cells, Channels).contiguous();
        IReadOnlyList<DecodedCaption> Sample(double temperature, long seed, int topK = 0) =>
            model.Decode(features, Start, End, new DecodingOptions { Strategy = DecodingStrategy.Sample, Temperature = temperature, Seed = seed, TopK = topK, MaxLength = 10 });

        var first = Sample(1.0, 4);
        var again = Sample(1.0, 4);
        Assert.That(again.Select(c => c.Tokens), Is.EqualTo(first.Select(c => c.Tokens)), "same seed, same captions");
        Assert.That(again.SelectMany(c => c.Attention), Is.EqualTo(first.SelectMany(c => c.Attention)), "same seed, same attention");
        Assert.That(first.Select(c => string.Join(",", c.Tokens)).Distinct().Count(), Is.GreaterThan(1), "precondition: sampling varies across rows");
        var greedy = model.Decode(features.narrow(0, 0, 1), Start, End, DecodingOptions.Greedy with { MaxLength = 10 })[0].Tokens;
        Assert.That(Sample(1e-4, 1).Select(c => c.Tokens), Is.All.EqualTo(greedy), "a near-zero temperature is greedy");
        Assert.That(Sample(1.0, 1, topK: 1).Select(c => c.Tokens), Is.All.EqualTo(greedy), "top-1 is greedy");
        for (var i = 0; i < first.Count; i++)
            Assert.That(first[i].Attention, Has.Count.EqualTo(first[i].Tokens.Count), $"row {i}: one attention row per token");
    }

    [Test]
    public void RejectsBadInput()
    {
        using var scope = torch.NewDisposeScope();
        using var model = NewModel();
        using var flat = torch.zeros(2, Cells * Channels + 1);
        Assert.Throws<ArgumentException>(() => model.Decode(flat, Start, End, Beam(2)));
        using var grid = torch.zeros(2, Cells, Channels);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(grid, Vocabulary, End, Beam(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Decode(grid, Start, -1));
    }
}

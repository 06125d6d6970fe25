using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Torch.Kernels;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// Decoding on the CPU projects through the packed kernel (DecodingProjection); the same decode through the output
/// layer itself must give the same captions: every model, greedy, beam and seeded sampling, with greedy captions ending at
/// different steps so that rows leave the batch.
/// </summary>
[TestFixture]
[Kernels]
public sealed class PackedDecodingTests
{
    private const int Vocabulary = 203, Start = 1, End = 2, Images = 13;

    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("init-inject");
        yield return new TestCaseData("merge");
        yield return new TestCaseData("soft attention");
        yield return new TestCaseData("transformer");
    }

    [TestCaseSource(nameof(Models))]
    public void GivesTheCaptionsOfTheOutputLayer(string kind)
    {
        Assume.That(PackedLinear.IsSupported, "no accelerated kernel on this CPU: decoding uses the output layer itself");
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var (model, features) = Create(kind);
        using (model)
        {
            // The end token's bias is raised until greedy captions end at different steps (rows then leave the batch).
            foreach (var bias in Enumerable.Range(1, 100).Select(i => i * 0.08f))
            {
                using (torch.no_grad()) model.state_dict()["fc.bias"][End] = torch.tensor(bias);
                if (model.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = 12 }).Select(c => c.Tokens.Count).Distinct().Count() > 1) break;
            }
            foreach (var options in new[]
            {
                DecodingOptions.Greedy with { MaxLength = 12 },
                new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 3, MaxLength = 12 },
                new DecodingOptions { Strategy = DecodingStrategy.Sample, Temperature = 0.7, TopK = 20, Seed = 9, MaxLength = 12 },
            })
            {
                var packed = model.Decode(features, Start, End, options);
                IReadOnlyList<DecodedCaption> plain;
                DecodingProjection.Unpacked.Value = true;
                try { plain = model.Decode(features, Start, End, options); }
                finally { DecodingProjection.Unpacked.Value = false; }
                if (options.Strategy == DecodingStrategy.Beam)
                {
                    // Scored in groups of 2 images (the last one alone), as a large vocabulary's beams are: the same captions.
                    IReadOnlyList<DecodedCaption> grouped;
                    BeamSearch.GroupElementsOverride.Value = 2L * options.BeamWidth * Vocabulary;
                    try { grouped = model.Decode(features, Start, End, options); }
                    finally { BeamSearch.GroupElementsOverride.Value = null; }
                    for (var i = 0; i < Images; i++)
                        Assert.That((grouped[i].Tokens, grouped[i].LogProbability), Is.EqualTo((packed[i].Tokens, packed[i].LogProbability)), $"{kind} beam in groups, image {i}");
                }
                if (options.Strategy == DecodingStrategy.Greedy)
                    Assert.That(packed.Select(c => c.Tokens.Count).Distinct().Count(), Is.GreaterThan(1), $"{kind}: greedy captions should end at different steps");
                for (var i = 0; i < Images; i++)
                {
                    Assert.That(packed[i].Tokens, Is.EqualTo(plain[i].Tokens), $"{kind} {options.Strategy}, image {i}");
                    Assert.That(packed[i].LogProbability, Is.EqualTo(plain[i].LogProbability).Within(1e-4), $"{kind} {options.Strategy}, image {i}");
                }
            }
        }
    }

    private static (CaptionModel Model, Tensor Features) Create(string kind) => kind switch
    {
        "init-inject" => (CaptionModel.Create(new CaptionModelOptions { VocabularySize = Vocabulary, FeatureDimension = 40, EmbeddingSize = 24, HiddenSize = 33 }),
            torch.rand(Images, 40)),
        "merge" => (CaptionModel.Create(new CaptionModelOptions { Architecture = CaptionArchitecture.Merge, VocabularySize = Vocabulary, FeatureDimension = 40, EmbeddingSize = 24, HiddenSize = 33 }),
            torch.rand(Images, 40)),
        "soft attention" => (new SoftAttentionCaptionModel(new SoftAttentionOptions { VocabularySize = Vocabulary, FeatureDimension = 16, GridCells = 9, EmbeddingSize = 20, HiddenSize = 24, AttentionSize = 12 }),
            torch.randn(Images, 9 * 16) * 3),
        _ => (new TransformerCaptionModel(new TransformerCaptionOptions { VocabularySize = Vocabulary, FeatureDimension = 16, GridCells = 9, ModelDimension = 32, Heads = 4, Layers = 2, FeedForwardSize = 48 }),
            torch.randn(Images, 9 * 16) * 3),
    };
}

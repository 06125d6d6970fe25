using BenchmarkDotNet.Attributes;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Captioning 64 images with the recipe's model (4096-d features, embedding and hidden 256), at most 30 tokens:
/// batched greedy decoding carrying the LSTM state, and beam search of width 3 and 5. The weights are random, so
/// captions run to the length limit and every call does the same work. benchmarks/reference/decode.py measures
/// PyTorch's state-carried greedy decode and the recipe's re-run-the-prefix decode on the same shapes.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("decode")]
public class DecodeBenchmarks
{
    public const int Images = 64, MaxLength = 30;
    private CaptionModel model = null!;
    private CaptionDecoder decoder = null!;
    private Tensor features = null!;

    /// <summary>Vocabulary sizes, as in the train-step benchmarks.</summary>
    [Params(8_000, 30_524)]
    public int Vocabulary { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        model = CaptionModel.Create(new CaptionModelOptions { VocabularySize = Vocabulary, FeatureDimension = StepBatches.FeatureSize, EmbeddingSize = 256, HiddenSize = 256 });
        model.eval();
        decoder = new CaptionDecoder(model, startId: 2, endId: 3);
        features = torch.rand([Images, StepBatches.FeatureSize]).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        features.Dispose();
        model.Dispose();
    }

    /// <summary>Greedy, batched over the 64 images, unscored like the PyTorch reference; returns the tokens generated.</summary>
    [Benchmark]
    public int Greedy() => decoder.Decode(features, DecodingOptions.Greedy with { MaxLength = MaxLength, ComputeLogProbability = false }).Sum(c => c.Tokens.Count);

    /// <summary>Beam search of width 3.</summary>
    [Benchmark]
    public int Beam3() => Beam(3);

    /// <summary>Beam search of width 5.</summary>
    [Benchmark]
    public int Beam5() => Beam(5);

    private int Beam(int width) =>
        decoder.Decode(features, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = width, MaxLength = MaxLength }).Sum(c => c.Tokens.Count);
}

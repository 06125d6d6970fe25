using BenchmarkDotNet.Attributes;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// The two grid models at batch 32, a 7×7 grid of 512 channels, vocabulary 8,000, T 16: a training step (loss,
/// backward, Adam) and greedy decoding of <see cref="SoftAttentionCaptionModel"/> (embedding, hidden and attention
/// 512) and <see cref="TransformerCaptionModel"/> (d_model 512, 8 heads, 2 layers, feed-forward 2048), dropout 0,
/// and beam search of width 3 for both. benchmarks/reference/attention.py measures the parity tests' PyTorch
/// architectures on the same batch: the tutorial's soft-attention forward, and nn.TransformerDecoderLayer with
/// logits at every position in training and the prefix re-run at every decoding step (greedy and beam).
/// </summary>
/// <remarks>
/// The weights are random; for decoding the end token's output bias is set to -1e4 on both sides, so every caption
/// runs to the length limit and both sides generate the same number of tokens.
/// </remarks>
[MemoryDiagnoser]
[BenchmarkCategory("attention")]
public class AttentionBenchmarks
{
    public const int Batch = 32, Cells = 49, Channels = 512, Vocabulary = 8_000, Length = 16, Pad = 0, Start = 2, End = 3;
    private SoftAttentionCaptionModel soft = null!;
    private TransformerCaptionModel transformer = null!;
    private SoftAttentionCaptionModel softDecoding = null!;
    private TransformerCaptionModel transformerDecoding = null!;
    private Adam softOptimizer = null!, transformerOptimizer = null!;
    private Tensor features = null!, inputs = null!, targets = null!;

    [GlobalSetup]
    public void Setup()
    {
        HandWritten.SameThreadsAsTheLibrary();
        var softOptions = new SoftAttentionOptions { VocabularySize = Vocabulary, FeatureDimension = Channels, PadId = Pad };
        var transformerOptions = new TransformerCaptionOptions { VocabularySize = Vocabulary, FeatureDimension = Channels, Layers = 2, PadId = Pad };
        torch.manual_seed(0);
        soft = new SoftAttentionCaptionModel(softOptions);
        softDecoding = new SoftAttentionCaptionModel(softOptions);
        torch.manual_seed(0);
        transformer = new TransformerCaptionModel(transformerOptions);
        transformerDecoding = new TransformerCaptionModel(transformerOptions);
        softOptimizer = torch.optim.Adam(soft.parameters(), lr: 1e-3);
        transformerOptimizer = torch.optim.Adam(transformer.parameters(), lr: 1e-3);
        using (torch.no_grad())
        {
            softDecoding.state_dict()["fc.bias"][End] = torch.tensor(-1e4f);
            transformerDecoding.state_dict()["fc.bias"][End] = torch.tensor(-1e4f);
        }
        softDecoding.eval();
        transformerDecoding.eval();

        // The 31-bit linear congruential generator of attention.py: the same features and captions on both sides.
        var state = 1;
        int Next() => state = (int)((state * 1103515245L + 12345) & 0x7fffffff);
        var grid = new float[Batch * Cells * Channels];
        for (var i = 0; i < grid.Length; i++) grid[i] = Next() / (float)int.MaxValue;
        var tokensIn = new long[Batch * Length];
        var tokensOut = new long[Batch * Length];
        for (var s = 0; s < Batch; s++)
        {
            var caption = new long[6 + Next() % 12];
            caption[0] = Start;
            for (var t = 1; t < caption.Length - 1; t++) caption[t] = 4 + Next() % (Vocabulary - 4);
            caption[^1] = End;
            for (var t = 0; t < caption.Length - 1; t++)
            {
                tokensIn[s * Length + t] = caption[t];
                tokensOut[s * Length + t] = caption[t + 1];
            }
        }
        features = torch.tensor(grid, [Batch, Cells, Channels]).DetachFromDisposeScope();
        inputs = torch.tensor(tokensIn, [Batch, Length]).DetachFromDisposeScope();
        targets = torch.tensor(tokensOut, [Batch, Length]).DetachFromDisposeScope();
        RecordUsefulFlops(tokensOut, softOptions, transformerOptions);
    }

    private static void RecordUsefulFlops(long[] targetTokens, SoftAttentionOptions soft, TransformerCaptionOptions transformer)
    {
        // Training: the real target positions; causal self-attention at position t (from 1) reads t positions.
        double rows = 0, attended = 0;
        for (var s = 0; s < Batch; s++)
        {
            var length = Enumerable.Range(0, Length).Count(t => targetTokens[s * Length + t] != Pad);
            rows += length;
            attended += length * (length + 1) / 2.0;
        }
        double Soft(double captions, double positions) => UsefulFlops.SoftAttention(captions, positions, Cells, Channels, soft.EmbeddingSize, soft.HiddenSize, soft.AttentionSize, Vocabulary);
        double Transformer(double captions, double positions, double reads) => UsefulFlops.Transformer(captions, positions, reads, Cells, Channels,
            transformer.ModelDimension, transformer.Layers, transformer.FeedForwardSize, Vocabulary);
        UsefulFlops.Record(nameof(SoftAttentionStep), UsefulFlops.Training * Soft(Batch, rows));
        UsefulFlops.Record(nameof(TransformerStep), UsefulFlops.Training * Transformer(Batch, rows, attended / rows));
        // Decoding runs every caption to Length (the end token is suppressed); with a key/value cache step t reads t positions.
        foreach (var (method, width) in new[] { (nameof(SoftAttentionGreedy), 1), (nameof(SoftAttentionBeam3), 3) })
            UsefulFlops.Record(method, Soft(Batch, (double)Batch * width * Length));
        foreach (var (method, width) in new[] { (nameof(TransformerGreedy), 1), (nameof(TransformerBeam3), 3) })
            UsefulFlops.Record(method, Transformer(Batch, (double)Batch * width * Length, (Length + 1) / 2.0));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        features.Dispose();
        inputs.Dispose();
        targets.Dispose();
        softOptimizer.Dispose();
        transformerOptimizer.Dispose();
        soft.Dispose();
        softDecoding.Dispose();
        transformer.Dispose();
        transformerDecoding.Dispose();
    }

    /// <summary>One training step of the soft-attention model: its loss (real targets only, plus the attention penalty), backward, Adam.</summary>
    [Benchmark]
    public double SoftAttentionStep() => Step(softOptimizer, () => soft.Loss(features, inputs, targets));

    /// <summary>One training step of the transformer: its loss over the real targets, backward, Adam.</summary>
    [Benchmark]
    public double TransformerStep() => Step(transformerOptimizer, () => transformer.Loss(features, inputs, targets));

    /// <summary>Greedy decoding of the 32 images, at most 16 tokens, carrying (h, c); returns the tokens generated.</summary>
    [Benchmark]
    public int SoftAttentionGreedy() =>
        softDecoding.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = Length, ComputeLogProbability = false }).Sum(c => c.Tokens.Count);

    /// <summary>Greedy decoding of the 32 images, at most 16 tokens, with the key/value caches; returns the tokens generated.</summary>
    [Benchmark]
    public int TransformerGreedy() =>
        transformerDecoding.Decode(features, Start, End, DecodingOptions.Greedy with { MaxLength = Length, ComputeLogProbability = false }).Sum(c => c.Tokens.Count);

    /// <summary>Beam search of width 3, carrying (h, c) per beam; returns the tokens of the chosen captions.</summary>
    [Benchmark]
    public int SoftAttentionBeam3() =>
        softDecoding.Decode(features, Start, End, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 3, MaxLength = Length }).Sum(c => c.Tokens.Count);

    /// <summary>Beam search of width 3 with the key/value caches reordered per beam; returns the tokens of the chosen captions.</summary>
    [Benchmark]
    public int TransformerBeam3() =>
        transformerDecoding.Decode(features, Start, End, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 3, MaxLength = Length }).Sum(c => c.Tokens.Count);

    private static double Step(Adam optimizer, Func<Tensor> loss)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var value = loss();
        value.backward();
        optimizer.step();
        return value.item<float>();
    }
}

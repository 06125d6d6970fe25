using BenchmarkDotNet.Attributes;
using ImageCaptioning.Modeling;
using ImageCaptioning.Training;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// One training step (loss, backward, Adam) of the recipe's model (4096-d features, embedding and hidden 256) at
/// batch 64 and T 31, in the three ways a step can be shaped: the recipe's prefix mode (one target per sample),
/// full-sequence teacher forcing padded to 31, and full sequence over length-bucketed batches (padded to each
/// batch's longest caption). benchmarks/reference/train_step.py measures PyTorch on the same batches; tokens per
/// step (<see cref="StepBatches.TargetTokens"/>) turn both into target tokens per second.
/// <see cref="HandWrittenPaddedStep"/> is the second reference: the notebook's padded step written by hand in
/// TorchSharp, on the same batch and from the same weights.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("train-step")]
public class TrainStepBenchmarks
{
    private LstmCaptionModel model = null!;
    private Adam optimizer = null!;
    private NotebookCaptionModel handWritten = null!;
    private torch.optim.Optimizer handWrittenOptimizer = null!;
    private StepBatches batches = null!;
    private int next;

    /// <summary>Vocabulary sizes: a word vocabulary, and bert-base-uncased's with the two marks added.</summary>
    [Params(8_000, 30_524)]
    public int Vocabulary { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        model = CaptionModel.Create(new CaptionModelOptions { VocabularySize = Vocabulary, FeatureDimension = StepBatches.FeatureSize, EmbeddingSize = 256, HiddenSize = 256 });
        optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        batches = new StepBatches(Vocabulary, seed: 1);
        HandWritten.SameThreadsAsTheLibrary();
        handWritten = NotebookCaptionModel.CopyOf(model);
        handWrittenOptimizer = torch.optim.Adam(handWritten.parameters(), lr: 1e-3);

        double Recipe(double rows) => UsefulFlops.Training * UsefulFlops.Recipe(StepBatches.Batch, rows, StepBatches.FeatureSize, 256, 256, Vocabulary);
        var vocabulary = (nameof(Vocabulary), (object)Vocabulary);
        UsefulFlops.Record(nameof(FullPaddedStep), Recipe(batches.TargetTokens[nameof(FullPaddedStep)]), vocabulary);
        UsefulFlops.Record(nameof(HandWrittenPaddedStep), Recipe(batches.TargetTokens[nameof(FullPaddedStep)]), vocabulary);
        UsefulFlops.Record(nameof(FullBucketedStep), Recipe(batches.TargetTokens[nameof(FullBucketedStep)]), vocabulary);
        // The prefix mode runs the LSTM over each prefix and projects only its last position.
        UsefulFlops.Record(nameof(PrefixStep), UsefulFlops.Training * (UsefulFlops.Recipe(StepBatches.Batch, 0, StepBatches.FeatureSize, 256, 256, Vocabulary)
            + batches.PrefixPositions * UsefulFlops.LstmStep(256, 256) + UsefulFlops.MatMul(StepBatches.Batch, 256, Vocabulary)), vocabulary);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        batches.Dispose();
        optimizer.Dispose();
        model.Dispose();
        handWrittenOptimizer.Dispose();
        handWritten.Dispose();
    }

    /// <summary>The recipe's prefix mode: 64 padded prefixes, the loss at each one's last position.</summary>
    [Benchmark]
    public double PrefixStep() => Step(() => CaptionLoss.Prefix(model, batches.Features, batches.Prefixes, batches.NextWords));

    /// <summary>Full-sequence teacher forcing, every caption padded to 31.</summary>
    [Benchmark]
    public double FullPaddedStep() => Step(() => CaptionLoss.FullSequence(model, batches.Features, batches.Inputs, batches.Targets));

    /// <summary>Full sequence over length-bucketed batches (one per call, round robin).</summary>
    [Benchmark]
    public double FullBucketedStep()
    {
        var (inputs, targets) = batches.Buckets[next++ % batches.Buckets.Count];
        return Step(() => CaptionLoss.FullSequence(model, batches.Features, inputs, targets));
    }

    /// <summary>
    /// Reference (b): the notebook's full-sequence step as a TorchSharp user writes it: logits [64, 31, V] at every
    /// position, <c>cross_entropy(..., ignore_index: pad)</c>, <c>torch.optim.Adam</c>.
    /// </summary>
    [Benchmark]
    public double HandWrittenPaddedStep()
    {
        using var scope = torch.NewDisposeScope();
        handWrittenOptimizer.zero_grad();
        var logits = handWritten.call(batches.Features, batches.Inputs);
        var loss = torch.nn.functional.cross_entropy(logits.reshape(-1, Vocabulary), batches.Targets.reshape(-1), ignore_index: StepBatches.Pad);
        loss.backward();
        handWrittenOptimizer.step();
        return loss.item<float>();
    }

    private double Step(Func<Tensor> loss)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var value = loss();
        value.backward();
        optimizer.step();
        return value.item<float>();
    }
}

/// <summary>
/// The benchmark batches, drawn from the same integer generator as train_step.py so both sides train on the same
/// token counts (caption lengths 6 to 24 tokens, marks included, mean 15): features [64, 4096], full-sequence
/// inputs/targets [64, 31], prefix samples [64, 31] + next words, and 16 bucketed batches cut from 1,024 sorted
/// captions.
/// </summary>
internal sealed class StepBatches : IDisposable
{
    public const int Batch = 64, Length = 31, FeatureSize = 4096, Pad = 0, BucketBatches = 16;
    private readonly List<Tensor> owned = [];

    public StepBatches(int vocabulary, int seed)
    {
        var state = seed;
        // A 31-bit linear congruential generator: trivially the same in Python.
        int Next() => state = (int)((state * 1103515245L + 12345) & 0x7fffffff);
        int CaptionLength() => 6 + Next() % 7 + Next() % 7 + Next() % 7;
        long Word() => 4 + Next() % (vocabulary - 4);

        var features = new float[Batch * FeatureSize];
        for (var i = 0; i < features.Length; i++) features[i] = Next() / (float)int.MaxValue;
        Features = Own(torch.tensor(features, [Batch, FeatureSize]));

        var (inputs, targets, tokens) = FullSequence(Enumerable.Range(0, Batch).Select(_ => CaptionLength()).ToArray(), Length, Word);
        Inputs = Own(torch.tensor(inputs, [Batch, Length]));
        Targets = Own(torch.tensor(targets, [Batch, Length]));
        TargetTokens["FullPaddedStep"] = tokens;

        var prefixes = new long[Batch * Length];
        var nextWords = new long[Batch];
        for (var s = 0; s < Batch; s++)
        {
            var prefix = 1 + Next() % Length;
            PrefixPositions += prefix;
            for (var t = 0; t < prefix; t++) prefixes[s * Length + t] = Word();
            nextWords[s] = Word();
        }
        Prefixes = Own(torch.tensor(prefixes, [Batch, Length]));
        NextWords = Own(torch.tensor(nextWords, [Batch]));
        TargetTokens["PrefixStep"] = Batch;

        var lengths = Enumerable.Range(0, Batch * BucketBatches).Select(_ => CaptionLength()).Order().ToArray();
        long bucketTokens = 0;
        for (var b = 0; b < BucketBatches; b++)
        {
            var slice = lengths.AsSpan(b * Batch, Batch).ToArray();
            var width = slice.Max() - 1;
            var (bucketInputs, bucketTargets, count) = FullSequence(slice, width, Word);
            Buckets.Add((Own(torch.tensor(bucketInputs, [Batch, width])), Own(torch.tensor(bucketTargets, [Batch, width]))));
            bucketTokens += count;
        }
        TargetTokens["FullBucketedStep"] = bucketTokens / (double)BucketBatches;
    }

    public Tensor Features { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public Tensor Prefixes { get; }
    public Tensor NextWords { get; }
    public List<(Tensor Inputs, Tensor Targets)> Buckets { get; } = [];

    /// <summary>The prefix samples' positions in all (the rest of each row is padding).</summary>
    public int PrefixPositions { get; }

    /// <summary>Target tokens per step of each case (the bucketed case's mean).</summary>
    public Dictionary<string, double> TargetTokens { get; } = [];

    public void Dispose()
    {
        foreach (var tensor in owned) tensor.Dispose();
    }

    // Captions of the given lengths (marks included): inputs tokens[..^1], targets tokens[1..], padded to width.
    private static (long[] Inputs, long[] Targets, long Tokens) FullSequence(int[] lengths, int width, Func<long> word)
    {
        var inputs = new long[lengths.Length * width];
        var targets = new long[lengths.Length * width];
        long tokens = 0;
        for (var s = 0; s < lengths.Length; s++)
        {
            var caption = new long[lengths[s]];
            caption[0] = 2;
            for (var t = 1; t < caption.Length - 1; t++) caption[t] = word();
            caption[^1] = 3;
            for (var t = 0; t < caption.Length - 1; t++)
            {
                inputs[s * width + t] = caption[t];
                targets[s * width + t] = caption[t + 1];
            }
            tokens += caption.Length - 1;
        }
        return (inputs, targets, tokens);
    }

    private Tensor Own(Tensor tensor)
    {
        owned.Add(tensor.DetachFromDisposeScope());
        return tensor;
    }
}

using BenchmarkDotNet.Attributes;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Captioning 64 images with the recipe's model (4096-d features, embedding and hidden 256), at most 30 tokens:
/// batched greedy decoding carrying the LSTM state, and beam search of width 3 and 5. The weights are random, so
/// captions run to the length limit and every call does the same work. benchmarks/reference/decode.py measures
/// PyTorch's state-carried greedy decode and the recipe's re-run-the-prefix decode on the same shapes;
/// <see cref="HandWrittenGreedy"/> is that state-carried greedy decode written by hand in TorchSharp, with the same
/// weights, and <see cref="HandWrittenBeam"/> decode.py's batched beam search.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("decode")]
public class DecodeBenchmarks
{
    public const int Images = 64, MaxLength = 30;
    private LstmCaptionModel model = null!;
    private CaptionDecoder decoder = null!;
    private Tensor features = null!;
    private NotebookCaptionModel handWritten = null!;

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
        HandWritten.SameThreadsAsTheLibrary();
        handWritten = NotebookCaptionModel.CopyOf(model);
        handWritten.eval();

        // Random weights: every caption runs to MaxLength, one row per image per step (times the width for beams).
        double Decoding(int width) => UsefulFlops.Recipe(Images, (double)Images * width * MaxLength, StepBatches.FeatureSize, 256, 256, Vocabulary);
        var vocabulary = (nameof(Vocabulary), (object)Vocabulary);
        UsefulFlops.Record(nameof(Greedy), Decoding(1), vocabulary);
        UsefulFlops.Record(nameof(HandWrittenGreedy), Decoding(1), vocabulary);
        UsefulFlops.Record(nameof(Beam3), Decoding(3), vocabulary);
        UsefulFlops.Record(nameof(Beam5), Decoding(5), vocabulary);
        UsefulFlops.Record(nameof(HandWrittenBeam3), Decoding(3), vocabulary);
        UsefulFlops.Record(nameof(HandWrittenBeam5), Decoding(5), vocabulary);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        features.Dispose();
        model.Dispose();
        handWritten.Dispose();
    }

    /// <summary>Greedy, batched over the 64 images, unscored like the PyTorch reference; returns the tokens generated.</summary>
    [Benchmark]
    public int Greedy() => decoder.Decode(features, DecodingOptions.Greedy with { MaxLength = MaxLength, ComputeLogProbability = false }).Sum(c => c.Tokens.Count);

    /// <summary>
    /// Reference (b): greedy decoding as a TorchSharp user following the PyTorch notebook writes it, batched over the
    /// 64 images: one LSTM step carrying (h, c), the full [64, V] logits projected every step, argmax; stops when every
    /// caption has ended. Returns the tokens generated, counted as decode.py counts them.
    /// </summary>
    [Benchmark]
    public long HandWrittenGreedy()
    {
        const long start = 2, end = 3;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var h = torch.tanh(handWritten.img_to_h.call(features)).unsqueeze(0);
        var c = torch.tanh(handWritten.img_to_c.call(features)).unsqueeze(0);
        var token = torch.full(Images, start, dtype: ScalarType.Int64);
        var finished = torch.zeros(Images, dtype: ScalarType.Bool);
        long generated = 0;
        for (var step = 0; step < MaxLength; step++)
        {
            // A scope per step frees each step's [64, V] logits at once, as TorchSharp's guidance for loops says.
            using var stepScope = torch.NewDisposeScope();
            var (output, nextH, nextC) = handWritten.lstm.call(handWritten.embedding.call(token).unsqueeze(1), (h, c));
            var nextToken = handWritten.fc.call(output.squeeze(1)).argmax(1);
            generated += finished.logical_not().sum().item<long>();
            var nextFinished = finished.logical_or(nextToken.eq(end));
            (h, c, token, finished) = (nextH.MoveToOuterDisposeScope(), nextC.MoveToOuterDisposeScope(), nextToken.MoveToOuterDisposeScope(), nextFinished.MoveToOuterDisposeScope());
            if (finished.all().item<bool>()) break;
        }
        return generated;
    }

    /// <summary>Beam search of width 3.</summary>
    [Benchmark]
    public int Beam3() => Beam(3);

    /// <summary>Beam search of width 5.</summary>
    [Benchmark]
    public int Beam5() => Beam(5);

    /// <summary>Reference (b) of <see cref="Beam3"/>: <see cref="HandWrittenBeam"/> of width 3.</summary>
    [Benchmark]
    public long HandWrittenBeam3() => HandWrittenBeam(3);

    /// <summary>Reference (b) of <see cref="Beam5"/>: <see cref="HandWrittenBeam"/> of width 5.</summary>
    [Benchmark]
    public long HandWrittenBeam5() => HandWrittenBeam(5);

    /// <summary>
    /// Batched beam search as a TorchSharp user following PyTorch writes it, decode.py's beam: log_softmax of the
    /// [64·k, V] logits plus each beam's score, top-k over each image's k·V candidates, the (h, c) rows and the token
    /// rows gathered by parent, a finished beam's continuations masked to the end token at 0; stops when every beam
    /// has ended. Returns the tokens of each image's best beam before its end token, counted as decode.py counts them.
    /// </summary>
    public long HandWrittenBeam(int width)
    {
        const long start = 2, end = 3;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var rows = torch.arange(Images).repeat_interleave(width);
        var h = torch.tanh(handWritten.img_to_h.call(features)).index_select(0, rows).unsqueeze(0);
        var c = torch.tanh(handWritten.img_to_c.call(features)).index_select(0, rows).unsqueeze(0);
        var token = torch.full(Images * width, start, dtype: ScalarType.Int64);
        var scores = torch.full([Images, width], float.NegativeInfinity);
        scores.select(1, 0).fill_(0);
        var finished = torch.zeros(Images * width, dtype: ScalarType.Bool);
        var sequences = torch.empty([Images * width, 0], ScalarType.Int64);
        var offsets = (torch.arange(Images) * width).unsqueeze(1);
        for (var step = 0; step < MaxLength; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            var (output, nextH, nextC) = handWritten.lstm.call(handWritten.embedding.call(token).unsqueeze(1), (h, c));
            var logp = handWritten.fc.call(output.squeeze(1)).log_softmax(1);
            if (finished.any().item<bool>())
            {
                logp.masked_fill_(finished.unsqueeze(1), float.NegativeInfinity);
                logp.index_put_(torch.tensor(0f), finished.nonzero().squeeze(1), torch.tensor(end));
            }
            var vocabulary = logp.size(1);
            var (top, flat) = (scores.reshape(-1, 1) + logp).view(Images, width * vocabulary).topk(width, 1);
            var parent = (offsets + flat.div(vocabulary, rounding_mode: RoundingMode.floor)).view(-1);
            var nextToken = flat.remainder(vocabulary).view(-1);
            var nextFinished = finished.index_select(0, parent).logical_or(nextToken.eq(end));
            var nextSequences = torch.cat([sequences.index_select(0, parent), nextToken.unsqueeze(1)], 1);
            (h, c) = (nextH.index_select(1, parent).MoveToOuterDisposeScope(), nextC.index_select(1, parent).MoveToOuterDisposeScope());
            (scores, token, finished, sequences) = (top.MoveToOuterDisposeScope(), nextToken.MoveToOuterDisposeScope(),
                nextFinished.MoveToOuterDisposeScope(), nextSequences.MoveToOuterDisposeScope());
            if (finished.all().item<bool>()) break;
        }
        var best = sequences.view(Images, width, -1)[torch.arange(Images), scores.argmax(1)];
        var ended = best.eq(end);
        var length = torch.where(ended.any(1), ended.to(ScalarType.Int32).argmax(1), torch.full(Images, best.size(1), ScalarType.Int64));
        return length.sum().item<long>();
    }

    private int Beam(int width) =>
        decoder.Decode(features, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = width, MaxLength = MaxLength }).Sum(c => c.Tokens.Count);
}

using System.Diagnostics;
using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Training;

public sealed partial class CaptionTrainer
{
    // The bar a self-critical epoch must clear to become the best: the validation CIDEr-D of the best cross-entropy
    // epoch, which a run with self-critical training records in every epoch. A run that turned self-critical training
    // on only after its cross-entropy epochs has none, and its first self-critical epoch becomes the best.
    private void BeginSelfCritical(TrainingCheckpoint current)
    {
        current.SelfCriticalStartEpoch = current.Epoch;
        current.BestSelfCriticalScore = current.BestEpoch is { } best ? current.History[best - 1].ValidationCiderD : null;
        logger.LogInformation("Self-critical training from epoch {Epoch}{Early}: {Epochs} epochs, learning rate {LearningRate}, {Samples} samples per image, {Baseline} baseline",
            current.Epoch + 1, current.Epoch < Options.Epochs ? $" (early stopping ended the cross-entropy epochs: no better validation loss for {current.EpochsWithoutImprovement} epochs)" : "",
            Options.SelfCritical!.Epochs, Options.SelfCritical.LearningRate, Options.SelfCritical.SamplesPerImage, Options.SelfCritical.Baseline);
    }

    /// <summary>One self-critical step: the loss of the next batch (<see cref="SelfCriticalLossOf"/>) and one optimiser step on it.</summary>
    private StepOutcome SelfCriticalStep(TrainingBatches<Batch> batches, SelfCriticalReferences references)
    {
        var watch = Stopwatch.StartNew();
        using var batch = batches.Next();
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var sample = SelfCriticalLossOf(batch, references);
        sample.Loss.backward();
        if (Options.GradientClipNorm is { } clip) torch.nn.utils.clip_grad_norm_(Model.parameters(), clip);
        optimizer.step();
        var loss = sample.Loss.item<float>();

        var sequences = sample.Sequences;
        long steps = 0, lengths = 0;
        for (var n = 0; n < sequences.Count; n++)
        {
            steps += sequences.Lengths[n];
            lengths += sequences.Captions[n].Length;
        }
        return new StepOutcome(loss, steps, watch.Elapsed.TotalSeconds, sample.Rewards.Sum(), sample.Baselines.Sum(), lengths, sequences.Count);
    }

    /// <summary>
    /// The self-critical loss over the distinct images of <paramref name="batch"/>, with its graph through the model:
    /// the baseline (greedy captions decoded without gradient, or the mean of the other samples), K sampled captions
    /// per image with their log-probabilities, and their rewards. Sample n is of image n / K of the batch. The tensors
    /// belong to the caller's dispose scope.
    /// </summary>
    internal SelfCriticalSample SelfCriticalLossOf(Batch batch, SelfCriticalReferences references)
    {
        var options = Options.SelfCritical ?? throw new InvalidOperationException($"{nameof(CaptionTrainerOptions.SelfCritical)} is not set");
        var samplesPerImage = options.SamplesPerImage;
        var imageIds = batch.ImageIds;
        var images = imageIds.Count;
        var imageIndex = new int[images];
        for (var u = 0; u < images; u++) imageIndex[u] = references.Captions.IndexOf(imageIds[u]);
        var imageOfSample = new int[images * samplesPerImage];
        for (var n = 0; n < imageOfSample.Length; n++) imageOfSample[n] = imageIndex[n / samplesPerImage];

        var features = TensorSpan.Create(batch.Features, [images, batch.FeatureDimension], device);
        var greedyRewards = options.Baseline == SelfCriticalBaseline.Greedy ? GreedyRewards(features, imageIndex, references) : null;
        // repeat_interleave keeps an image's samples together, as MeanOfOtherSamples and imageOfSample read them.
        var (tokens, logProbabilities) = Sample(features.repeat_interleave(samplesPerImage, dim: 0), references, options);
        var sequences = SelfCriticalSequences.Read(tokens, references.EndId, references.PadId);
        var rewards = references.Reward.Score(sequences.Captions, imageOfSample);
        var baselines = greedyRewards is null
            ? SelfCriticalLoss.MeanOfOtherSamples(rewards, samplesPerImage)
            : [.. imageOfSample.Select((_, n) => greedyRewards[n / samplesPerImage])];
        var loss = SelfCriticalLoss.Compute(logProbabilities, sequences.Mask(device, logProbabilities.dtype),
            torch.tensor(rewards, device: device), torch.tensor(baselines, device: device));
        return new SelfCriticalSample(loss, sequences, rewards, baselines);
    }

    // What the model says at test time, scored like the samples: eval mode, no gradient, the same length limit.
    private double[] GreedyRewards(Tensor features, int[] imageIndex, SelfCriticalReferences references)
    {
        var decoding = DecodingOptions.Greedy with { MaxLength = Options.SelfCritical!.MaxLength, ComputeLogProbability = false };
        var captions = Model.Decode(features, references.StartId, references.EndId, decoding);
        return references.Reward.Score([.. captions.Select(caption => caption.Tokens.ToArray())], imageIndex);
    }

    /// <summary>
    /// Samples one caption per row of <paramref name="features"/> in the model's current (train) mode, with gradients:
    /// each step draws from softmax(logits / temperature) and keeps the log-probability of the drawn token under that
    /// same distribution, the policy whose gradient REINFORCE estimates. Every row is fed until all have emitted the end
    /// token or the length limit is reached; a row's steps after its end hold the pad id (and are masked out).
    /// </summary>
    /// <returns>The tokens [N, T] int64 and their log-probabilities [N, T], in the caller's dispose scope.</returns>
    private (Tensor Tokens, Tensor LogProbabilities) Sample(Tensor features, SelfCriticalReferences references, SelfCriticalOptions options)
    {
        var rows = checked((int)features.size(0));
        var maxLength = options.MaxLength;
        var tokens = new long[rows * maxLength];
        Array.Fill(tokens, (long)references.PadId);
        var finished = new bool[rows];
        var drawn = new long[rows];
        var open = rows;
        var logProbabilities = new List<Tensor>(maxLength);
        using var decoder = Model.BeginDecoding(features);
        Array.Fill(drawn, (long)references.StartId);
        var next = TensorSpan.Create<long>(drawn, [rows], device);
        var steps = 0;
        while (steps < maxLength && open > 0)
        {
            var (logits, _) = decoder.Step(next);
            var scaled = options.Temperature == 1 ? logits : logits.div(options.Temperature);
            var chosen = scaled.detach().softmax(1).multinomial(1);
            logProbabilities.Add(scaled.log_softmax(1).gather(1, chosen).squeeze(1));
            next = chosen.squeeze(1);
            next.CopyTo<long>(drawn);
            for (var row = 0; row < rows; row++)
            {
                if (finished[row]) continue;
                tokens[row * maxLength + steps] = drawn[row];
                if (drawn[row] == references.EndId)
                {
                    finished[row] = true;
                    open--;
                }
            }
            steps++;
        }
        var kept = new long[rows * steps];
        for (var row = 0; row < rows; row++) tokens.AsSpan(row * maxLength, steps).CopyTo(kept.AsSpan(row * steps));
        return (TensorSpan.Create<long>(kept, [rows, steps], device), torch.stack(logProbabilities, 1));
    }
}

/// <summary>What <see cref="CaptionTrainer.SelfCriticalLossOf"/> computed: the loss, the sampled captions and their rewards and baselines.</summary>
internal sealed record SelfCriticalSample(Tensor Loss, SelfCriticalSequences Sequences, double[] Rewards, double[] Baselines);

using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;

namespace CaptionServer.Load;

/// <summary>
/// A captioner small enough to train in seconds on synthetic scenes (a small CNN inside a soft-attention model, so
/// answers carry an 8×8 attention grid), saved to a folder the server loads. Linked into the server's tests too.
/// </summary>
internal static class TinyCaptioner
{
    /// <summary>Generates the scenes under <paramref name="scratch"/>, trains, saves to <paramref name="folder"/>; returns the scenes' image files.</summary>
    public static IReadOnlyList<string> Train(string folder, string scratch)
    {
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 60, ImageSize = 32, Seed = 4 }).Generate(Path.Combine(scratch, "data"));
        using var captioner = CaptionPipeline.Create()
            .WithEncoder(new SmallCnnEncoderOptions { InputSize = 32, Widths = [8, 16] })
            .WithModel(new SoftAttentionOptions { EmbeddingSize = 16, HiddenSize = 16, AttentionSize = 16 })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(Path.Combine(scratch, "cache"))
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(3)
            .Train(o => o with { Epochs = 20, BatchSize = 16, EncoderLearningRate = 3e-3 });
        captioner.Save(folder);
        return [.. data.Images.Select(image => data.GetImagePath(image.ImageId))];
    }
}

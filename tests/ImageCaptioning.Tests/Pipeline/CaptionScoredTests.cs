using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>
/// <see cref="Captioner.CaptionScored"/>: each decoded image's caption with its log-probability and attention, in one
/// batch, as the other captioning methods and the decoder give them; and <see cref="AttentionStrip"/>'s markup.
/// </summary>
[TestFixture]
public sealed class CaptionScoredTests
{
    private TempDirectory dir = null!;
    private Captioner captioner = null!;
    private List<RgbImage> images = null!;

    [OneTimeSetUp]
    public void Train()
    {
        dir = new TempDirectory();
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 30, ImageSize = 32, Seed = 4 }).Generate(dir.File("data"));
        captioner = CaptionPipeline.Create()
            .WithEncoder(new SmallCnnEncoderOptions { InputSize = 32, Widths = [8, 16] })
            .WithModel(new SoftAttentionOptions { EmbeddingSize = 16, HiddenSize = 16, AttentionSize = 16 })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(dir.File("cache"))
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(3)
            .Train(o => o with { Epochs = 4, BatchSize = 16, EncoderLearningRate = 3e-3 });
        images = [.. data.Images.Take(4).Select(image => ImageDecoder.Decode(data.GetImagePath(image.ImageId)))];
    }

    [OneTimeTearDown]
    public void Delete()
    {
        foreach (var image in images) image.Dispose();
        captioner.Dispose();
        dir.Dispose();
    }

    [Test]
    public void TheTextIsTheCaptionAndTheWordsAreItsTokens()
    {
        var scored = captioner.CaptionScored(images);
        Assert.That(scored.Select(s => s.Text), Is.EqualTo(captioner.Caption(images)));
        foreach (var caption in scored)
        {
            Assert.That(caption.Attention, Is.Not.Null, "a soft-attention model attends");
            Assert.That(string.Join(' ', caption.Attention!.Words), Is.EqualTo(caption.Text), "one attention row per generated word");
            Assert.That((caption.Attention.GridRows, caption.Attention.GridColumns), Is.EqualTo(captioner.Bundle.Model.AttentionGrid));
            Assert.That(caption.Attention.Weights.Select(w => w.Sum()), Has.All.EqualTo(1).Within(1e-4), "each word's weights are a softmax over the grid");
        }
    }

    [Test]
    public void TheScoreIsTheDecodersLogProbabilityOfThatCaption()
    {
        var scored = captioner.CaptionScored(images, DecodingOptions.Greedy);
        var beam = captioner.CaptionScored(images, DecodingOptions.Greedy with { Strategy = DecodingStrategy.Beam, BeamWidth = 1, LengthPenalty = 0 });
        for (var i = 0; i < images.Count; i++)
        {
            Assert.That(scored[i].LogProbability, Is.LessThan(0).And.GreaterThan(double.NegativeInfinity));
            // A one-beam search is greedy decoding scored by another code path: the same caption and total.
            Assert.That(beam[i].Text, Is.EqualTo(scored[i].Text), $"image {i}");
            Assert.That(beam[i].LogProbability, Is.EqualTo(scored[i].LogProbability).Within(1e-4), $"image {i}");
            Assert.That(beam[i].Finished, Is.EqualTo(scored[i].Finished), $"image {i}");
        }
    }

    [Test]
    public void ACaptionCutAtTheLengthLimitIsUnfinishedAndUnscoredWhenAskedSo()
    {
        var cut = captioner.CaptionScored(images, DecodingOptions.Greedy with { MaxLength = 1, ComputeLogProbability = false });
        Assert.That(cut.Select(c => c.Attention!.Words.Count), Has.All.AtMost(1));
        Assert.That(cut.Where(c => c.Attention!.Words.Count == 1).Select(c => c.Finished), Has.All.False, "one word and no end token within one step");
        Assert.That(cut.Select(c => c.LogProbability), Has.All.NaN);
    }

    [Test]
    public void ABatchGivesWhatEachImageGetsAlone()
    {
        var batch = captioner.CaptionScored(images);
        for (var i = 0; i < images.Count; i++)
        {
            var alone = captioner.CaptionScored([images[i]])[0];
            Assert.That(batch[i].Text, Is.EqualTo(alone.Text), $"image {i}");
            Assert.That(batch[i].LogProbability, Is.EqualTo(alone.LogProbability).Within(1e-4), $"image {i}");
        }
        Assert.That(captioner.CaptionScored([]), Is.Empty);
    }

    [Test]
    public void ACancelledTokenStopsBeforeTheForwardPass()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.That(() => captioner.CaptionScored(images, cancellationToken: cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void TheStripHasOneFigurePerWordWithTheImageEncoded()
    {
        var attention = new CaptionAttention(["a", "<b>"], 1, 2, [[0.25f, 0.75f], [0f, 0f]]);
        var html = AttentionStrip.Html(attention, "photo.jpg?x=1&y=\"2\"");
        Assert.That(html, Does.StartWith("<div class=\"strip\">").And.EndWith("</div>"));
        Assert.That(html.Split("<figure class=\"word\">").Length - 1, Is.EqualTo(2));
        Assert.That(html, Does.Contain("<img src=\"photo.jpg?x=1&amp;y=&quot;2&quot;\" alt=\"\">"), "the URL is HTML-encoded");
        Assert.That(html, Does.Contain("<figcaption>&lt;b&gt;</figcaption>"));
        Assert.That(html, Does.Contain("<span style=\"opacity:0.233\"></span><span style=\"opacity:0.7\"></span>"), "scaled by the word's peak");
        Assert.That(html, Does.Contain("<span style=\"opacity:0\"></span><span style=\"opacity:0\"></span>"), "an all-zero word draws nothing");
        Assert.That(html, Does.Contain("grid-template:repeat(1,1fr)/repeat(2,1fr)"));
        Assert.That(AttentionStrip.Html(attention), Does.Not.Contain("<img"), "without a URL, the heat maps alone");
        Assert.That(AttentionStrip.Style, Does.Contain(".heat{").And.Contain($"width:{AttentionStrip.ThumbnailSize}px"));
    }
}

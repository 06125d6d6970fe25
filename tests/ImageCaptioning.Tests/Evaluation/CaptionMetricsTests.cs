using System.Text.Json;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Evaluation;

[TestFixture]
public sealed class CaptionMetricsTests
{
    private static readonly (string ImageId, string Hypothesis, IReadOnlyList<string> References)[] Items =
    [
        ("1000268201", "<sos> a child in a pink dress climbs stairs <eos>",
            ["A child in a pink dress is climbing up a set of stairs .", "A little girl climbing into a wooden playhouse ."]),
        ("1001773457", "<sos> two dogs play on the road <eos>",
            ["A black dog and a spotted dog are fighting", "Two dogs on pavement moving toward each other ."]),
        ("1002674143", "<sos> a man sits on a bench <eos>",
            ["A little girl covered in paint sits in front of a painted rainbow .", "There is a girl with pigtails sitting in front of a rainbow painting ."]),
    ];

    [Test]
    public void CorpusAndPerImageScoresAreTheMetricsOfTheTokenizedCaptions()
    {
        var result = CaptionMetrics.Evaluate(Items);

        var tokenizer = EvaluationTokenizer.Default;
        var hypotheses = Items.Select(i => tokenizer.Tokenize(i.Hypothesis)).ToArray();
        var references = Items.Select(i => i.References.Select(tokenizer.Tokenize).ToArray()).ToArray();
        var bleu = Bleu.Corpus(hypotheses, references);
        var ciderD = CiderD.Compute(hypotheses, references);

        Assert.That(hypotheses[0], Is.EqualTo(new[] { "a", "child", "in", "a", "pink", "dress", "climbs", "stairs" }));
        Assert.That(result.Bleu.Scores, Is.EqualTo(bleu.Scores));
        Assert.That(result.Bleu.MatchCounts, Is.EqualTo(bleu.MatchCounts));
        Assert.That(result.CiderD, Is.EqualTo(ciderD.Score));
        Assert.That(result.CiderD, Is.GreaterThan(0));
        Assert.That(result.Images.Select(i => i.ImageId), Is.EqualTo(Items.Select(i => i.ImageId)));
        Assert.That(result.Images.Select(i => i.CiderD), Is.EqualTo(ciderD.ImageScores));
        var method1 = new BleuOptions { Smoothing = BleuSmoothing.Method1 };
        Assert.That(result.Images.Select(i => i.SentenceBleu),
            Is.EqualTo(Enumerable.Range(0, Items.Length).Select(i => Bleu.Sentence(hypotheses[i], references[i], method1).Bleu4)));
        Assert.That(result.Images[0].Hypothesis, Is.EqualTo(Items[0].Hypothesis), "entries keep the captions as given");
        Assert.That(result.Images[0].References, Is.EqualTo(Items[0].References));
    }

    [Test]
    public void WriteJsonWritesTheReportAtomically()
    {
        var result = CaptionMetrics.Evaluate(Items);
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "reports", "eval.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "stale");

        result.WriteJson(path);

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var corpus = document.RootElement.GetProperty("corpus");
        Assert.That(corpus.GetProperty("imageCount").GetInt32(), Is.EqualTo(3));
        Assert.That(corpus.GetProperty("bleu").GetProperty("bleu1").GetDouble(), Is.EqualTo(result.Bleu.Bleu1));
        Assert.That(corpus.GetProperty("bleu").GetProperty("bleu4").GetDouble(), Is.EqualTo(result.Bleu.Bleu4));
        Assert.That(corpus.GetProperty("brevityPenalty").GetDouble(), Is.EqualTo(result.Bleu.BrevityPenalty));
        Assert.That(corpus.GetProperty("ciderD").GetDouble(), Is.EqualTo(result.CiderD));
        Assert.That(corpus.GetProperty("bleuSmoothing").GetString(), Is.EqualTo("None"));

        var images = document.RootElement.GetProperty("images").EnumerateArray().ToArray();
        Assert.That(images, Has.Length.EqualTo(3));
        Assert.That(images[1].GetProperty("imageId").GetString(), Is.EqualTo("1001773457"));
        Assert.That(images[1].GetProperty("hypothesis").GetString(), Is.EqualTo(Items[1].Hypothesis));
        Assert.That(images[1].GetProperty("references").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(Items[1].References));
        Assert.That(images[1].GetProperty("ciderD").GetDouble(), Is.EqualTo(result.Images[1].CiderD));
        Assert.That(images[1].GetProperty("sentenceBleu").GetDouble(), Is.EqualTo(result.Images[1].SentenceBleu));

        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }), "no temporary file is left behind");
    }

    [Test]
    public void WriteJsonCreatesTheFolder()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "a", "b", "eval.json");

        CaptionMetrics.Evaluate(Items).WriteJson(path);

        Assert.That(File.Exists(path), Is.True);
    }

    [Test]
    public void ARepeatedImageIsRejectedByIdAndPositions()
    {
        var items = Items.Append(("1001773457", "a dog", ["a dog"])).ToArray();

        Assert.That(() => CaptionMetrics.Evaluate(items),
            Throws.ArgumentException.With.Message.Contains("Image '1001773457' appears twice (items 1 and 3)"));
    }

    [Test]
    public void AnImageWithoutReferencesIsRejectedById() =>
        Assert.That(() => CaptionMetrics.Evaluate([("img-7", "a dog", Array.Empty<string>())]),
            Throws.ArgumentException.With.Message.Contains("The reference list of image 'img-7' is empty"));

    [Test]
    public void ANullReferenceIsRejectedById() =>
        Assert.That(() => CaptionMetrics.Evaluate([("img-7", "a dog", ["a dog", null!])]),
            Throws.ArgumentException.With.Message.Contains("Reference 1 of image 'img-7' is null"));

    [Test]
    public void NoItemsAreRejected() =>
        Assert.That(() => CaptionMetrics.Evaluate([]),
            Throws.ArgumentException.With.Message.Contains("Caption evaluation needs at least one image"));
}

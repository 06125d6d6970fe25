using System.Globalization;
using System.Text.RegularExpressions;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>The report's HTML as written, and <see cref="CaptionAttention"/>'s validation.</summary>
[TestFixture]
public sealed partial class HtmlReportTests
{
    private TempDirectory dir = null!;

    [SetUp]
    public void SetUp() => dir = new TempDirectory();

    [TearDown]
    public void TearDown() => dir.Dispose();

    [Test]
    public void MarkupInTitleIdsCaptionsAndWordsIsEscaped()
    {
        var (report, _) = AttentionReportSample.Write(dir.Path);
        var html = File.ReadAllText(report);

        Assert.That(html, Does.Not.Contain("<script").IgnoreCase, "no script element, injected or not");
        Assert.That(html, Does.Not.Contain("<img src=x").And.Not.Contain("<b>"));
        Assert.That(html, Does.Contain("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
        Assert.That(html, Does.Contain("<figcaption>&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;</figcaption>"));
        Assert.That(html, Does.Contain("<title>Attention &amp; &lt;b&gt;report&lt;/b&gt;</title>"));
        Assert.That(html, Does.Contain("src=\"images/two%20words.jpg\""), "a file name is escaped as a URL, then as an attribute");
        Assert.That(html, Does.Not.Contain("http:").And.Not.Contain("https:").And.Not.Contain("//"), "self-contained: no external URL");
    }

    [Test]
    public void EachWordGetsAThumbnailWithOpacityScaledByItsPeak()
    {
        var (report, images) = AttentionReportSample.Write(dir.Path);
        var html = File.ReadAllText(report);

        var strips = Strip().Matches(html).Select(m => m.Value).ToList();
        var withAttention = images.Where(i => i.Attention is not null).ToList();
        Assert.That(strips, Has.Count.EqualTo(withAttention.Count));
        foreach (var (strip, image) in strips.Zip(withAttention))
        {
            var attention = image.Attention!;
            var figures = Figure().Matches(strip).ToList();
            Assert.That(figures, Has.Count.EqualTo(attention.Words.Count), image.Id);
            for (var w = 0; w < figures.Count; w++)
            {
                Assert.That(figures[w].Value, Does.Contain($"repeat({attention.GridRows},1fr)/repeat({attention.GridColumns},1fr)"));
                var opacities = Opacity().Matches(figures[w].Value).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
                var weights = attention.Weights[w];
                var max = weights.Max();
                Assert.That(opacities, Is.EqualTo(weights.Select(v => 0.7 * v / max)).Within(0.0005),
                    $"{image.Id}, word {w}: each cell's opacity is its weight over the word's peak, the peak drawn at 0.7");
            }
        }
    }

    [Test]
    public void AWordThatAttendsNowhereIsDrawnClear()
    {
        var report = dir.File("report.html");
        var attention = new CaptionAttention(["a", "dog"], 1, 3, [new float[] { 0, 0, 0 }, new float[] { 0.2f, 0.5f, 0.3f }]);
        HtmlReport.Write(report, "t", Evaluation("dog"), 10, _ => null, _ => attention);
        var opacities = Opacity().Matches(File.ReadAllText(report)).Select(m => m.Groups[1].Value).ToList();
        Assert.That(opacities, Is.EqualTo(new[] { "0", "0", "0", "0.28", "0.7", "0.42" }));
    }

    [Test]
    public void WithoutAttentionThereIsNoStrip()
    {
        var report = dir.File("report.html");
        HtmlReport.Write(report, "t", Evaluation("dog", "cat"), 1, id => dir.File(id + ".jpg"));
        var html = File.ReadAllText(report);
        Assert.That(html, Does.Not.Contain("class=\"strip\""));
        Assert.That(html, Does.Contain("<img src=\"dog.jpg\"").And.Not.Contain("cat.jpg"), "maxImages still limits the images");
    }

    [Test]
    public void WriteRejectsBadArguments()
    {
        var result = Evaluation("dog");
        Assert.That(() => HtmlReport.Write(" ", "t", result, 1, _ => null),
            Throws.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("path"));
        Assert.That(() => HtmlReport.Write(dir.File("r.html"), "t", result, -1, _ => null),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("maxImages"));
        Assert.That(() => HtmlReport.Write(dir.File("r.html"), "t", result, 1, null!),
            Throws.ArgumentNullException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("imagePath"));
        Assert.That(File.Exists(dir.File("r.html")), Is.False);
    }

    [Test]
    public void AttentionCopiesItsInput()
    {
        var words = new List<string> { "a", "dog" };
        var weights = new[] { new float[] { 0.5f, 0.5f }, new float[] { 1, 0 } };
        var attention = new CaptionAttention(words, 2, 1, weights);
        words[0] = "the";
        weights[1][0] = 7;
        Assert.That(attention.Words, Is.EqualTo(new[] { "a", "dog" }));
        Assert.That(attention.Weights[1], Is.EqualTo(new float[] { 1, 0 }));
        Assert.That((attention.GridRows, attention.GridColumns), Is.EqualTo((2, 1)));
    }

    [Test]
    public void AttentionRejectsBadInputNamingTheWord()
    {
        string[] words = ["a", "dog"];
        float[] ok = [0.5f, 0.5f];
        Assert.That(() => new CaptionAttention(words, 1, 2, [ok]),
            Throws.ArgumentException.With.Message.Contains("2 words but 1 arrays").And.Property(nameof(ArgumentException.ParamName)).EqualTo("weights"));
        Assert.That(() => new CaptionAttention(words, 1, 2, [ok, new float[] { 1, 0, 0 }]),
            Throws.ArgumentException.With.Message.Contains("word 1 ('dog') has 3 weights but a 1x2 grid has 2 cells"));
        Assert.That(() => new CaptionAttention(words, 1, 2, [ok, new float[] { -0.1f, 1.1f }]),
            Throws.ArgumentException.With.Message.Contains("word 1 ('dog') has weight -0.1 at cell 0"));
        Assert.That(() => new CaptionAttention(words, 1, 2, [new float[] { 0, float.NaN }, ok]),
            Throws.ArgumentException.With.Message.Contains("word 0 ('a') has weight NaN at cell 1"));
        Assert.That(() => new CaptionAttention(words, 1, 2, [ok, new float[] { float.PositiveInfinity, 0 }]),
            Throws.ArgumentException.With.Message.Contains("word 1 ('dog')"));
        Assert.That(() => new CaptionAttention(["a", null!], 1, 2, [ok, ok]),
            Throws.ArgumentNullException.With.Message.Contains("word 1 is null").And.Property(nameof(ArgumentException.ParamName)).EqualTo("words"));
        Assert.That(() => new CaptionAttention(words, 1, 2, [ok, null!]),
            Throws.ArgumentNullException.With.Message.Contains("weights of word 1 ('dog')"));
        Assert.That(() => new CaptionAttention(words, 0, 2, [ok, ok]),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("gridRows"));
        Assert.That(() => new CaptionAttention(words, 2, 0, [ok, ok]),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("gridColumns"));
        Assert.That(() => new CaptionAttention(null!, 1, 2, [ok, ok]), Throws.ArgumentNullException);
        Assert.That(() => new CaptionAttention(words, 1, 2, null!), Throws.ArgumentNullException);
    }

    private static CaptionEvaluationResult Evaluation(params string[] ids) =>
        CaptionMetrics.Evaluate(ids.Select(id => (id, "a " + id, (IReadOnlyList<string>)["a " + id + " runs"])));

    [GeneratedRegex("<div class=\"strip\">.*?</figure></div>", RegexOptions.Singleline)]
    private static partial Regex Strip();

    [GeneratedRegex("<figure class=\"word\">.*?</figure>", RegexOptions.Singleline)]
    private static partial Regex Figure();

    [GeneratedRegex("<span style=\"opacity:([0-9.]+)\"></span>")]
    private static partial Regex Opacity();
}

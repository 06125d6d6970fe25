using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>The report as headless Chromium renders it: images loaded, one thumbnail per word, the attention drawn.</summary>
[TestFixture]
public sealed partial class HtmlReportBrowserTests
{
    // Appended to a copy of the report (the report itself has no script): once the page has loaded, it writes what
    // the browser laid out and decoded into a <pre>, which --dump-dom then carries out as JSON.
    private const string Probe = """
        <script>
        addEventListener('load', () => {
          const box = (e, origin) => { const r = e.getBoundingClientRect(); return { x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height }; };
          const probe = {
            title: document.title,
            scripts: document.scripts.length,
            images: [...document.images].map(i => ({ src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight })),
            strips: [...document.querySelectorAll('.strip')].map(s => ({
              image: s.closest('tr').querySelector('small').textContent,
              words: [...s.querySelectorAll('.word')].map(f => {
                const thumb = f.querySelector('.thumb'), origin = thumb.getBoundingClientRect();
                return {
                  word: f.querySelector('figcaption').textContent,
                  thumb: box(thumb, origin),
                  images: thumb.querySelectorAll('img').length,
                  cells: [...thumb.querySelectorAll('.heat span')].map(c => ({ opacity: +getComputedStyle(c).opacity, ...box(c, origin) })),
                };
              }),
            })),
          };
          const pre = document.createElement('pre');
          pre.id = 'probe';
          pre.textContent = JSON.stringify(probe);
          document.body.appendChild(pre);
        });
        </script>
        """;

    private TempDirectory dir = null!;

    [SetUp]
    public void SetUp()
    {
        HeadlessChromium.Require();
        dir = new TempDirectory();
    }

    [TearDown]
    public void TearDown() => dir?.Dispose();

    [Test]
    public void EveryImageLoadsAndEachWordShowsItsAttention()
    {
        var (probe, images) = Render();

        var withAttention = images.Where(i => i.Attention is not null).ToList();
        var thumbnails = withAttention.Sum(i => i.Attention!.Words.Count);
        var loaded = probe.GetProperty("images").EnumerateArray().ToList();
        Assert.That(loaded, Has.Count.EqualTo(images.Count + thumbnails), "one <img> per image and one per word of each strip");
        var expectedSizes = images.SelectMany(i => Enumerable.Repeat((i.Width, i.Height), 1 + (i.Attention?.Words.Count ?? 0))).ToList();
        foreach (var (image, (width, height)) in loaded.Zip(expectedSizes))
        {
            var src = image.GetProperty("src").GetString();
            Assert.That(image.GetProperty("complete").GetBoolean(), Is.True, $"{src} finished loading");
            Assert.That((image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32()), Is.EqualTo((width, height)),
                $"{src} was found and decoded at its size");
        }

        var strips = probe.GetProperty("strips").EnumerateArray().ToList();
        Assert.That(strips.Select(s => s.GetProperty("image").GetString()), Is.EqualTo(withAttention.Select(i => i.Id)),
            "a strip under each attention caption, none under the image without attention");
        foreach (var (strip, image) in strips.Zip(withAttention))
        {
            var attention = image.Attention!;
            var words = strip.GetProperty("words").EnumerateArray().ToList();
            Assert.That(words.Select(w => w.GetProperty("word").GetString()), Is.EqualTo(attention.Words), $"{image.Id}: one thumbnail per word, in order");
            for (var w = 0; w < words.Count; w++)
            {
                var where = $"{image.Id}, word {w}";
                var thumb = words[w].GetProperty("thumb");
                Assert.That((thumb.GetProperty("w").GetDouble(), thumb.GetProperty("h").GetDouble()), Is.EqualTo((64.0, 64.0)), $"{where}: a 64 px thumbnail");
                Assert.That(words[w].GetProperty("images").GetInt32(), Is.EqualTo(1), $"{where}: the image under the attention");
                var cells = words[w].GetProperty("cells").EnumerateArray().ToList();
                Assert.That(cells, Has.Count.EqualTo(attention.GridRows * attention.GridColumns), $"{where}: one overlay cell per grid cell");

                var opacities = cells.Select(c => c.GetProperty("opacity").GetDouble()).ToList();
                var peak = AttentionReportSample.Peak(attention, w);
                Assert.That(opacities.IndexOf(opacities.Max()), Is.EqualTo(peak), $"{where}: the cell with the largest weight is the most opaque");
                Assert.That(opacities.Where((_, c) => c != peak), Is.All.LessThan(opacities[peak]), $"{where}: and strictly so");

                var (cellWidth, cellHeight) = (64.0 / attention.GridColumns, 64.0 / attention.GridRows);
                for (var c = 0; c < cells.Count; c++)
                {
                    var cell = cells[c];
                    Assert.That(new[] { cell.GetProperty("x").GetDouble(), cell.GetProperty("y").GetDouble(), cell.GetProperty("w").GetDouble(), cell.GetProperty("h").GetDouble() },
                        Is.EqualTo(new[] { c % attention.GridColumns * cellWidth, c / attention.GridColumns * cellHeight, cellWidth, cellHeight }).Within(0.5),
                        $"{where}, cell {c}: laid out row-major over the thumbnail");
                }
            }
        }
    }

    [Test]
    public void HostileIdsWordsAndCaptionsStayText()
    {
        var (probe, images) = Render();

        Assert.That(probe.GetProperty("title").GetString(), Is.EqualTo(AttentionReportSample.Title), "no injected handler renamed the page");
        Assert.That(probe.GetProperty("scripts").GetInt32(), Is.EqualTo(1), "the probe is the page's only script");
        Assert.That(probe.GetProperty("images").GetArrayLength(), Is.EqualTo(images.Count + images.Sum(i => i.Attention?.Words.Count ?? 0)),
            "no injected <img>");
        var hostile = probe.GetProperty("strips").EnumerateArray().Single(s => s.GetProperty("image").GetString() == AttentionReportSample.Script);
        Assert.That(hostile.GetProperty("words").EnumerateArray().Select(w => w.GetProperty("word").GetString()),
            Is.EqualTo(new[] { AttentionReportSample.Script, AttentionReportSample.Markup }), "markup in words is shown as text");
    }

    [Test]
    public void ScreenshotShowsThePage()
    {
        var (report, _) = AttentionReportSample.Write(dir.Path);
        var png = dir.File("report.png");
        HeadlessChromium.Screenshot(report, dir.Path, png, 900, 1200);

        using var shot = ImageDecoder.Decode(png);
        Assert.That((shot.Width, shot.Height), Is.EqualTo((900, 1200)));
        var pixels = shot.Pixels;
        double sum = 0, squares = 0;
        var heat = 0;
        for (var i = 0; i < pixels.Length; i += 3)
        {
            var luma = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
            sum += luma;
            squares += luma * luma;
            // The overlay's orange-red over the images: red well above green and blue.
            if (pixels[i] > 150 && pixels[i] > pixels[i + 1] + 60 && pixels[i] > pixels[i + 2] + 60) heat++;
        }
        var count = pixels.Length / 3;
        var variance = squares / count - sum / count * (sum / count);
        Assert.That(variance, Is.GreaterThan(100), "the screenshot is not a blank page");
        Assert.That(heat, Is.GreaterThan(100), "the attention overlay is drawn");
    }

    private (JsonElement Probe, IReadOnlyList<SampleReportImage> Images) Render()
    {
        var (report, images) = AttentionReportSample.Write(dir.Path);
        var probed = dir.File("probed.html");
        var html = File.ReadAllText(report);
        Assert.That(html, Does.Contain("</body>"));
        File.WriteAllText(probed, html.Replace("</body>", Probe + "</body>", StringComparison.Ordinal));

        var dom = HeadlessChromium.DumpDom(probed, dir.Path);
        var match = ProbeElement().Match(dom);
        Assert.That(match.Success, Is.True, "the probe ran after the page loaded:\n" + dom);
        return (JsonDocument.Parse(WebUtility.HtmlDecode(match.Groups[1].Value)).RootElement.Clone(), images);
    }

    [GeneratedRegex("<pre id=\"probe\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ProbeElement();
}

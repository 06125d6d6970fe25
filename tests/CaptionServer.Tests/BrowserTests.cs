using System.Net;
using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>
/// The server as its own process on a loopback port: the upload page in a real browser, and a graceful shutdown that
/// finishes the request in flight.
/// </summary>
[TestFixture]
public sealed class BrowserTests
{
    [Test]
    public async Task ThePageShowsThePhotoItsCaptionAndTheHeatMapStrip()
    {
        using var scratch = new TempDirectory();
        var file = Scene(scratch);
        var expected = TinyModel.Expected(file);
        var page = await CaptionThroughThePageAsync(TinyModel.Folder, scratch, file, "caption-server-page.png", "the upload page after captioning a synthetic scene");

        Assert.That(page.GetProperty("caption").GetString(), Is.EqualTo(expected.Text), "the library's caption of the uploaded file");
        Assert.That(page.GetProperty("score").GetString(), Does.StartWith("log-probability -").And.Contain("greedy · model"));
        var words = page.GetProperty("words").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.That(words, Is.EqualTo(expected.Attention!.Words), "one thumbnail per word");
        Assert.That(page.GetProperty("cells").EnumerateArray().Select(c => c.GetInt32()), Has.All.EqualTo(64), "an 8x8 heat map over each");
        Assert.That(page.GetProperty("peaks").EnumerateArray().Select(p => p.GetDouble()), Has.All.EqualTo(0.7).Within(1e-6), "each word's hottest cell is drawn at the report's peak opacity");
        Assert.That(page.GetProperty("thumbBackground").GetString(), Does.StartWith("url(\"blob:"), "the photo under each heat map");
        Assert.That(page.GetProperty("stripHeight").GetDouble(), Is.GreaterThan(60), "the strip is laid out");
    }

    [Test]
    public async Task ThePageOfACheckpointShowsThePhotoAndItsCaptionWithoutAStrip()
    {
        using var scratch = new TempDirectory();
        var file = Scene(scratch);
        var expected = TinyCheckpoints.Expected(TinyCheckpoints.BlipFolder, file);
        var page = await CaptionThroughThePageAsync(TinyCheckpoints.BlipFolder, scratch, file, "caption-server-checkpoint-page.png",
            "the upload page of a BLIP checkpoint after captioning a synthetic scene");

        Assert.That(page.GetProperty("caption").GetString(), Is.EqualTo(expected.Text).And.Not.Empty, "the library's caption of the uploaded file");
        Assert.That(page.GetProperty("score").GetString(), Does.StartWith("log-probability -").And.Contain("greedy · model"));
        Assert.That(page.GetProperty("words").GetArrayLength(), Is.EqualTo(0), "no attention grid, so no thumbnails");
        Assert.That(page.GetProperty("stripHeight").GetDouble(), Is.EqualTo(0), "and no strip");
    }

    /// <summary>
    /// Starts the server on <paramref name="model"/>, picks <paramref name="file"/> in the page's own file input, waits
    /// for the caption and returns what the page shows (checked here: the caption arrived and the photo is shown); the
    /// screenshot is attached to the test.
    /// </summary>
    private static async Task<JsonElement> CaptionThroughThePageAsync(string model, TempDirectory scratch, string file, string screenshotName, string screenshotDescription)
    {
        DevToolsBrowser.Require();
        var (server, address) = await ServerProcess.StartAsync("--model", model);
        using var _ = server;
        await using var browser = await DevToolsBrowser.LaunchAsync(scratch.Path, 900, 700);
        await browser.SendAsync("Page.navigate", new { url = address.AbsoluteUri });
        await browser.WaitForAsync("document.readyState === 'complete' && !!document.getElementById('file')", "the page's load");
        await browser.ChooseFileAsync("#file", file);
        await browser.WaitForAsync("['captioned', 'failed'].includes(document.body.dataset.state)", "the caption's arrival");
        await browser.WaitForAsync("document.getElementById('photo').complete", "the photo's decode");

        var page = await browser.EvaluateAsync("""
            (() => {
              const words = [...document.querySelectorAll('#strip figure.word')];
              return {
                state: document.body.dataset.state,
                error: document.getElementById('error').textContent,
                caption: document.getElementById('caption').textContent,
                score: document.getElementById('score').textContent,
                photoWidth: document.getElementById('photo').naturalWidth,
                words: words.map(w => w.querySelector('figcaption').textContent),
                cells: words.map(w => w.querySelectorAll('.heat span').length),
                peaks: words.map(w => Math.max(...[...w.querySelectorAll('.heat span')].map(s => parseFloat(getComputedStyle(s).opacity)))),
                thumbBackground: words.length ? getComputedStyle(words[0].querySelector('.thumb')).backgroundImage : '',
                stripHeight: document.getElementById('strip').getBoundingClientRect().height,
              };
            })()
            """);
        var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, screenshotName);
        await browser.ScreenshotAsync(screenshot);
        TestContext.AddTestAttachment(screenshot, screenshotDescription);

        Assert.That(page.GetProperty("state").GetString(), Is.EqualTo("captioned"), page.GetProperty("error").GetString() + server.Output);
        Assert.That(page.GetProperty("photoWidth").GetInt32(), Is.EqualTo(128), "the photo is shown");
        Assert.That(new FileInfo(screenshot).Length, Is.GreaterThan(1000));
        return page;
    }

    /// <summary>A synthetic scene as a JPEG file, enlarged so the page's photo is more than a few pixels.</summary>
    private static string Scene(TempDirectory scratch)
    {
        var file = scratch.File("scene.jpg");
        using var scene = ImageDecoder.Decode(TinyModel.Images[5]);
        using var enlarged = Enlarged(scene, 4);
        File.WriteAllBytes(file, ImageCaptioning.Synthetic.JpegEncoder.Encode(enlarged));
        return file;
    }

    [Test]
    public async Task SigtermFinishesTheRequestInFlightThenExits0()
    {
        var (server, address) = await ServerProcess.StartAsync("--model", TinyModel.Folder, "--max-batch-size", "4", "--batch-window-ms", "1500");
        using var _ = server;
        using var client = new HttpClient { BaseAddress = address };
        var pending = Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]));
        await Http.WaitForQueueAsync(client, q => q.GetProperty("waiting").GetInt32() == 1, "the request's admission");

        var exit = server.TerminateAsync();
        using var response = await pending;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), server.Output);
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(TinyModel.Expected(TinyModel.Images[0]).Text));
        Assert.That(await exit, Is.EqualTo(0), server.Output);
        var output = server.Output;
        var stopping = output.IndexOf("Application is shutting down", StringComparison.Ordinal);
        var captioned = output.IndexOf("Captioned a 32x32", StringComparison.Ordinal);
        Assert.That(stopping, Is.GreaterThanOrEqualTo(0), output);
        Assert.That(captioned, Is.GreaterThan(stopping), "the caption was made after the shutdown began");
    }

    private static RgbImage Enlarged(RgbImage image, int factor)
    {
        var (width, height) = (image.Width * factor, image.Height * factor);
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = image.GetPixel(x / factor, y / factor);
                var at = (y * width + x) * 3;
                (pixels[at], pixels[at + 1], pixels[at + 2]) = (r, g, b);
            }
        return RgbImage.FromPixels(width, height, pixels);
    }
}

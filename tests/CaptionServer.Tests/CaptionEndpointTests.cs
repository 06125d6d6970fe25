using System.Net;
using System.Text.Json;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>POST /captions on good input: the caption, its score, the decoding, the model and the attention, as the library gives them.</summary>
[TestFixture]
public sealed class CaptionEndpointTests
{
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> server = null!;
    private HttpClient client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        server = ServerFactory.Create();
        client = ServerFactory.Client(server);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        client.Dispose();
        server.Dispose();
    }

    [Test]
    public async Task ARawImageGetsTheLibrarysCaptionScoreAndAttention()
    {
        var file = TinyModel.Images[0];
        var expected = TinyModel.Expected(file);
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(expected.Text));
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.EqualTo(expected.LogProbability).Within(1e-9));
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.LessThan(0));
        Assert.That(answer.GetProperty("finished").GetBoolean(), Is.EqualTo(expected.Finished));
        Assert.That(answer.GetProperty("model").GetString(), Is.EqualTo("model"), "the folder's name");
        var decoding = answer.GetProperty("decoding");
        Assert.That(decoding.GetProperty("strategy").GetString(), Is.EqualTo("greedy"));
        Assert.That(decoding.GetProperty("maxLength").GetInt32(), Is.EqualTo(30), "the model's default");

        var attention = answer.GetProperty("attention");
        Assert.That(attention.GetProperty("rows").GetInt32(), Is.EqualTo(8));
        Assert.That(attention.GetProperty("columns").GetInt32(), Is.EqualTo(8));
        var words = attention.GetProperty("words").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.That(words, Is.EqualTo(expected.Attention!.Words));
        var weights = attention.GetProperty("weights").EnumerateArray().Select(w => w.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.That(weights, Has.Count.EqualTo(words.Count));
        for (var i = 0; i < weights.Count; i++)
        {
            Assert.That(weights[i], Is.EqualTo(expected.Attention.Weights[i]).Within(1e-6f), $"word {i}'s weights");
            Assert.That(weights[i].Sum(), Is.EqualTo(1).Within(1e-4), "a softmax over the grid");
        }
        Assert.That(answer.GetProperty("strip").ValueKind, Is.EqualTo(JsonValueKind.Null), "the strip's HTML only when asked for");
    }

    [Test]
    public async Task AMultipartFileGetsTheSameAnswerAsTheRawBody()
    {
        var bytes = File.ReadAllBytes(TinyModel.Images[1]);
        using var raw = await Http.PostRawAsync(client, bytes);
        using var form = await Http.PostFormAsync(client, bytes);
        Assert.That(form.StatusCode, Is.EqualTo(HttpStatusCode.OK), await form.Content.ReadAsStringAsync());
        var (a, b) = (await Http.JsonAsync(raw), await Http.JsonAsync(form));
        Assert.That(b.GetProperty("caption").GetString(), Is.EqualTo(a.GetProperty("caption").GetString()));
        Assert.That(b.GetProperty("logProbability").GetDouble(), Is.EqualTo(a.GetProperty("logProbability").GetDouble()));
    }

    [Test]
    public async Task BeamSearchIsTheLibrarysBeamSearch()
    {
        var file = TinyModel.Images[2];
        var expected = TinyModel.Expected(file, DecodingOptions.Greedy with { Strategy = DecodingStrategy.Beam, BeamWidth = 4 });
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file), "?beam=4");
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(expected.Text));
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.EqualTo(expected.LogProbability).Within(1e-9));
        var decoding = answer.GetProperty("decoding");
        Assert.That(decoding.GetProperty("strategy").GetString(), Is.EqualTo("beam"));
        Assert.That(decoding.GetProperty("beamWidth").GetInt32(), Is.EqualTo(4));
        Assert.That(decoding.GetProperty("lengthPenalty").GetDouble(), Is.EqualTo(1));
    }

    [Test]
    public async Task SeededSamplingIsReproducibleAndReportsItsSettings()
    {
        var bytes = File.ReadAllBytes(TinyModel.Images[3]);
        var expected = TinyModel.Expected(TinyModel.Images[3], DecodingOptions.Greedy with { Strategy = DecodingStrategy.Sample, Temperature = 1.5, TopK = 5, Seed = 11 });
        using var first = await Http.PostRawAsync(client, bytes, "?temperature=1.5&topK=5&seed=11");
        using var second = await Http.PostRawAsync(client, bytes, "?temperature=1.5&topK=5&seed=11");
        var (a, b) = (await Http.JsonAsync(first), await Http.JsonAsync(second));
        Assert.That(a.GetProperty("caption").GetString(), Is.EqualTo(expected.Text), "a seeded request is captioned alone, as the library captions it");
        Assert.That(b.GetProperty("caption").GetString(), Is.EqualTo(a.GetProperty("caption").GetString()));
        var decoding = a.GetProperty("decoding");
        Assert.That(decoding.GetProperty("strategy").GetString(), Is.EqualTo("sample"));
        Assert.That(decoding.GetProperty("temperature").GetDouble(), Is.EqualTo(1.5));
        Assert.That(decoding.GetProperty("topK").GetInt32(), Is.EqualTo(5));
        Assert.That(decoding.GetProperty("seed").GetInt64(), Is.EqualTo(11));
    }

    [Test]
    public async Task MaxLengthCutsTheCaption()
    {
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]), "?maxLength=3");
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries), Has.Length.AtMost(3));
        Assert.That(answer.GetProperty("decoding").GetProperty("maxLength").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public async Task TheStripIsTheLibrarysDrawingOfTheAttention()
    {
        var file = TinyModel.Images[4];
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file), "?strip=true");
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("strip").GetString(), Is.EqualTo(AttentionStrip.Html(TinyModel.Expected(file).Attention!)));
    }

    [Test]
    public async Task TheOptionsAreCaseInsensitiveAsQueryKeysAre()
    {
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]), "?MAXLENGTH=2");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task HealthModelAndThePage()
    {
        var health = await Http.JsonAsync(await client.GetAsync("/health"));
        Assert.That(health.GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(health.GetProperty("model").GetString(), Is.EqualTo("model"));

        var model = await Http.JsonAsync(await client.GetAsync("/model"));
        Assert.That(model.GetProperty("architecture").GetString(), Is.EqualTo("SoftAttentionCaptionModel"));
        Assert.That(model.GetProperty("encoder").GetString(), Is.EqualTo("SmallCnnEncoder"));
        Assert.That(model.GetProperty("attentionGrid").GetProperty("rows").GetInt32(), Is.EqualTo(8));
        Assert.That(model.GetProperty("defaultDecoding").GetProperty("strategy").GetString(), Is.EqualTo("greedy"));
        Assert.That(model.GetProperty("folder").GetString(), Is.EqualTo(Path.GetFullPath(TinyModel.Folder)));

        using var page = await client.GetAsync("/");
        Assert.That(page.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/html"));
        var html = await page.Content.ReadAsStringAsync();
        Assert.That(html, Does.Contain("<input type=\"file\" id=\"file\""));
        Assert.That(html, Does.Contain(AttentionStrip.Style), "the strip's CSS is the library's");
    }
}

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>
/// The server on hub checkpoint folders (ViT-GPT-2 and BLIP): each answer is the library's
/// <see cref="PretrainedCaptioner"/> caption of the same file, batched or not; the options a checkpoint cannot follow are
/// 400s naming them; <c>GET /model</c> describes the checkpoint as its files do.
/// </summary>
[TestFixture]
public sealed class CheckpointTests
{
    private readonly Dictionary<string, (Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Server, HttpClient Client)> servers = [];

    [OneTimeTearDown]
    public void Stop()
    {
        foreach (var (server, client) in servers.Values)
        {
            client.Dispose();
            server.Dispose();
        }
    }

    [TestCase("vit-gpt2", "beam", 3, 12)]
    [TestCase("blip", "greedy", null, 20)]
    public async Task ARawImageGetsTheLibrarysCaptionAndScore(string architecture, string strategy, int? beams, int maxLength)
    {
        var folder = TinyCheckpoints.Folder(architecture);
        var file = TinyModel.Images[0];
        var expected = TinyCheckpoints.Expected(folder, file);
        Assert.That(expected.Text, Is.Not.Empty, "a caption to compare");
        using var response = await Http.PostRawAsync(Client(architecture), File.ReadAllBytes(file), "?strip=true");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(expected.Text));
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.EqualTo(expected.LogProbability).Within(1e-9));
        Assert.That(answer.GetProperty("finished").GetBoolean(), Is.EqualTo(expected.Finished));
        Assert.That(answer.GetProperty("model").GetString(), Is.EqualTo(Path.GetFileName(folder)));
        Assert.That(answer.GetProperty("attention").ValueKind, Is.EqualTo(JsonValueKind.Null), "a checkpoint has no attention grid");
        Assert.That(answer.GetProperty("strip").ValueKind, Is.EqualTo(JsonValueKind.Null), "so no strip, even when asked for");
        var decoding = answer.GetProperty("decoding");
        Assert.That(decoding.GetProperty("strategy").GetString(), Is.EqualTo(strategy), "the checkpoint's num_beams");
        Assert.That(decoding.GetProperty("maxLength").GetInt32(), Is.EqualTo(maxLength), "the checkpoint's max_length");
        Assert.That(Nullable(decoding.GetProperty("beamWidth")), Is.EqualTo(beams));
    }

    [TestCase("vit-gpt2", 1, 6)]
    [TestCase("vit-gpt2", 2, 9)]
    [TestCase("blip", 3, 8)]
    public async Task BeamAndMaxLengthAreTheGenerationOptions(string architecture, int beams, int maxLength)
    {
        var folder = TinyCheckpoints.Folder(architecture);
        var file = TinyModel.Images[1];
        var expected = TinyCheckpoints.Expected(folder, file, new PretrainedGenerationOptions { NumBeams = beams, MaxLength = maxLength });
        using var response = await Http.PostRawAsync(Client(architecture), File.ReadAllBytes(file), $"?beam={beams}&maxLength={maxLength}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(expected.Text));
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.EqualTo(expected.LogProbability).Within(1e-9));
        var decoding = answer.GetProperty("decoding");
        Assert.That(decoding.GetProperty("strategy").GetString(), Is.EqualTo(beams == 1 ? "greedy" : "beam"));
        Assert.That(decoding.GetProperty("maxLength").GetInt32(), Is.EqualTo(maxLength));
        Assert.That(Nullable(decoding.GetProperty("beamWidth")), Is.EqualTo(beams == 1 ? null : beams));
    }

    [TestCase(null)]
    [TestCase(3)]
    public async Task ABlipPromptStartsTheCaption(int? beams)
    {
        const string prompt = "a picture of";
        var folder = TinyCheckpoints.BlipFolder;
        var file = TinyModel.Images[2];
        var expected = TinyCheckpoints.Expected(folder, file, new PretrainedGenerationOptions { NumBeams = beams }, prompt);
        var query = "?prompt=a%20picture%20of" + (beams is { } b ? $"&beam={b}" : "");
        using var response = await Http.PostRawAsync(Client("blip"), File.ReadAllBytes(file), query);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var answer = await Http.JsonAsync(response);
        Assert.That(answer.GetProperty("caption").GetString(), Is.EqualTo(expected.Text).And.StartWith(prompt), "the caption continues the prompt");
        Assert.That(answer.GetProperty("logProbability").GetDouble(), Is.EqualTo(expected.LogProbability).Within(1e-9));
        Assert.That(answer.GetProperty("decoding").GetProperty("prompt").GetString(), Is.EqualTo(prompt));
    }

    [TestCase("vit-gpt2")]
    [TestCase("blip")]
    public async Task ConcurrentRequestsShareOneBatchedCallAndGetTheirOneAtATimeAnswers(string architecture)
    {
        var folder = TinyCheckpoints.Folder(architecture);
        using var server = ServerFactory.Serving(folder, (nameof(CaptionServerOptions.MaxBatchSize), "8"), (nameof(CaptionServerOptions.BatchWindowMilliseconds), "1000"));
        using var client = ServerFactory.Client(server);
        var files = TinyModel.Images.Take(5).ToList();
        var answers = await Task.WhenAll(files.Select(async file =>
        {
            using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            var answer = await Http.JsonAsync(response);
            return (Caption: answer.GetProperty("caption").GetString(), Score: answer.GetProperty("logProbability").GetDouble());
        }));
        var alone = TinyCheckpoints.Expected(folder, files);
        for (var i = 0; i < files.Count; i++)
        {
            Assert.That(answers[i].Caption, Is.EqualTo(alone[i].Text), $"image {i} gets its own caption, as the library captions it alone");
            Assert.That(answers[i].Score, Is.EqualTo(alone[i].LogProbability).Within(1e-4), $"image {i}'s score");
        }
        Assert.That(answers.Select(a => a.Score).Distinct().Count(), Is.EqualTo(files.Count), "the images are told apart");
        var queue = await Http.QueueAsync(client);
        Assert.That(queue.GetProperty("captioned").GetInt64(), Is.EqualTo(5));
        Assert.That(queue.GetProperty("batches").GetInt64(), Is.EqualTo(1), "the five arrived within the window: one batched call");
    }

    [TestCase("vit-gpt2", "?temperature=1", "option 'temperature': the checkpoint (VisionEncoderDecoderModel) does not sample")]
    [TestCase("blip", "?temperature=0.7&topK=4", "option 'temperature': the checkpoint (BlipForConditionalGeneration) does not sample")]
    [TestCase("blip", "?topK=4", "option 'topK': the checkpoint (BlipForConditionalGeneration) does not sample")]
    [TestCase("vit-gpt2", "?seed=3", "option 'seed': the checkpoint (VisionEncoderDecoderModel) does not sample")]
    [TestCase("vit-gpt2", "?prompt=a%20dog", "option 'prompt': the checkpoint (VisionEncoderDecoderModel) takes no text prompt")]
    [TestCase("blip", "?prompt=", "option 'prompt' is empty")]
    [TestCase("blip", "?maxLength=1", "option 'maxLength' must be at least 2 for a checkpoint (got 1)")]
    [TestCase("vit-gpt2", "?beam=9", "option 'beam' must be between 1 and 8 (got 9)")]
    [TestCase("blip", "?bogus=1", "unknown option 'bogus'")]
    public async Task AnOptionTheCheckpointCannotFollowIs400BeforeTheUploadIsRead(string architecture, string query, string reason)
    {
        // An empty body: read first, it would be the reason.
        using var response = await Http.PostRawAsync(Client(architecture), [], query);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain(reason));
    }

    [Test]
    public async Task ALengthBeyondTheDecodersPositionsIs400AndTheServerGoesOn()
    {
        var client = Client("vit-gpt2");
        using var refused = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]), "?maxLength=50");
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(refused), Does.Contain("max_length 50 is more than the decoder's 40 positions"));
        using var next = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("vit-gpt2")]
    [TestCase("blip")]
    public async Task TheModelRouteDescribesTheCheckpointAsItsFilesDo(string architecture)
    {
        var folder = TinyCheckpoints.Folder(architecture);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        var preprocessor = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "preprocessor_config.json")))!;
        var blip = architecture == "blip";
        // BLIP keeps its text decoder's ids in text_config and ends captions at [SEP]; ViT-GPT-2 keeps them at the top level.
        var decoder = blip ? config["text_config"]! : config["decoder"]!;
        var (start, end) = blip
            ? ((int)decoder["bos_token_id"]!, (int)decoder["sep_token_id"]!)
            : ((int)config["decoder_start_token_id"]!, (int)config["eos_token_id"]!);
        var size = preprocessor["size"]!;
        var (width, height) = size is JsonObject ? ((int)size["width"]!, (int)size["height"]!) : ((int)size, (int)size);

        var model = await Http.JsonAsync(await Client(architecture).GetAsync("/model"));
        Assert.That(model.GetProperty("kind").GetString(), Is.EqualTo("checkpoint"));
        Assert.That(model.GetProperty("architecture").GetString(), Is.EqualTo((string)config["architectures"]![0]!));
        Assert.That(model.GetProperty("folder").GetString(), Is.EqualTo(Path.GetFullPath(folder)));
        Assert.That(model.GetProperty("vocabularySize").GetInt32(), Is.EqualTo((int)decoder["vocab_size"]!));
        Assert.That(model.GetProperty("imageSize").GetProperty("width").GetInt32(), Is.EqualTo(width));
        Assert.That(model.GetProperty("imageSize").GetProperty("height").GetInt32(), Is.EqualTo(height));
        Assert.That(model.GetProperty("takesPrompt").GetBoolean(), Is.EqualTo(blip));
        var generation = model.GetProperty("generation");
        Assert.That(generation.GetProperty("maxLength").GetInt32(), Is.EqualTo(blip ? 20 : (int)config["max_length"]!), "config.json's, else Hugging Face's default");
        Assert.That(generation.GetProperty("numBeams").GetInt32(), Is.EqualTo(blip ? 1 : (int)config["num_beams"]!));
        Assert.That(generation.GetProperty("decoderStartId").GetInt32(), Is.EqualTo(start));
        Assert.That(generation.GetProperty("endIds").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { end }));
        Assert.That(model.GetProperty("defaultDecoding").GetProperty("strategy").GetString(), Is.EqualTo(blip ? "greedy" : "beam"));

        var health = await Http.JsonAsync(await Client(architecture).GetAsync("/health"));
        Assert.That(health.GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(health.GetProperty("model").GetString(), Is.EqualTo(Path.GetFileName(folder)));
    }

    private HttpClient Client(string architecture)
    {
        if (!servers.TryGetValue(architecture, out var started))
        {
            var server = ServerFactory.Serving(TinyCheckpoints.Folder(architecture));
            servers[architecture] = started = (server, ServerFactory.Client(server));
        }
        return started.Client;
    }

    private static int? Nullable(JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : value.GetInt32();
}

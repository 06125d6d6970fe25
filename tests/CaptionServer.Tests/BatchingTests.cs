using System.Net;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>The batcher: requests gathered into one pass, a bounded queue answered 503, a departed client's work dropped, settings checked at start.</summary>
[TestFixture]
public sealed class BatchingTests
{
    private static (string, string) Setting(string key, int value) => (key, value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Test]
    public async Task ConcurrentRequestsShareOneForwardPassAndGetTheirOwnCaptions()
    {
        using var server = ServerFactory.Create(Setting(nameof(CaptionServerOptions.MaxBatchSize), 8), Setting(nameof(CaptionServerOptions.BatchWindowMilliseconds), 1000));
        using var client = ServerFactory.Client(server);
        var files = TinyModel.Images.Take(5).ToList();
        var answers = await Task.WhenAll(files.Select(async file =>
        {
            using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            var answer = await Http.JsonAsync(response);
            return (Caption: answer.GetProperty("caption").GetString(), Score: answer.GetProperty("logProbability").GetDouble());
        }));
        for (var i = 0; i < files.Count; i++)
        {
            // The captions' scores differ from image to image by far more than a batched pass's rounding.
            var alone = TinyModel.Expected(files[i]);
            Assert.That(answers[i].Caption, Is.EqualTo(alone.Text), $"image {i} gets its own caption, as the library captions it alone");
            Assert.That(answers[i].Score, Is.EqualTo(alone.LogProbability).Within(1e-4), $"image {i}'s score");
        }
        Assert.That(answers.Select(a => a.Score).Distinct().Count(), Is.EqualTo(files.Count), "the images are told apart");
        var queue = await Http.QueueAsync(client);
        Assert.That(queue.GetProperty("captioned").GetInt64(), Is.EqualTo(5));
        Assert.That(queue.GetProperty("batches").GetInt64(), Is.EqualTo(1), "the five arrived within the window: one forward pass");
    }

    [Test]
    public async Task BatchingOffCaptionsOneByOne()
    {
        using var server = ServerFactory.Create(Setting(nameof(CaptionServerOptions.MaxBatchSize), 1));
        using var client = ServerFactory.Client(server);
        await Task.WhenAll(TinyModel.Images.Take(3).Select(async file =>
        {
            using var response = await Http.PostRawAsync(client, File.ReadAllBytes(file));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }));
        Assert.That((await Http.QueueAsync(client)).GetProperty("batches").GetInt64(), Is.EqualTo(3));
    }

    [Test]
    public async Task AFullQueueIs503WithRetryAfterAndTheWaitingRequestStillGetsItsCaption()
    {
        // One may wait; the worker holds it for the window, so the second finds the queue full.
        using var server = ServerFactory.Create(Setting(nameof(CaptionServerOptions.QueueCapacity), 1), Setting(nameof(CaptionServerOptions.MaxBatchSize), 4),
            Setting(nameof(CaptionServerOptions.BatchWindowMilliseconds), 1500), Setting(nameof(CaptionServerOptions.RetryAfterSeconds), 7));
        using var client = ServerFactory.Client(server);
        var bytes = File.ReadAllBytes(TinyModel.Images[0]);
        var first = Http.PostRawAsync(client, bytes);
        await Http.WaitForQueueAsync(client, q => q.GetProperty("waiting").GetInt32() == 1, "the first request's admission");

        using var refused = await Http.PostRawAsync(client, bytes);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(await Http.DetailAsync(refused), Does.Contain("the queue is full (1 requests waiting)"));

        using var accepted = await first;
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var queue = await Http.QueueAsync(client);
        Assert.That(queue.GetProperty("rejected").GetInt64(), Is.EqualTo(1));
        Assert.That(queue.GetProperty("captioned").GetInt64(), Is.EqualTo(1));
    }

    [Test]
    public async Task AClientThatDisconnectsHasItsWorkDropped()
    {
        using var server = ServerFactory.Create(Setting(nameof(CaptionServerOptions.MaxBatchSize), 4), Setting(nameof(CaptionServerOptions.BatchWindowMilliseconds), 1000));
        using var client = ServerFactory.Client(server);
        using var leaving = new CancellationTokenSource();
        var abandoned = Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]), cancellationToken: leaving.Token);
        await Http.WaitForQueueAsync(client, q => q.GetProperty("waiting").GetInt32() == 1, "the request's admission");
        await leaving.CancelAsync();
        Assert.That(async () => await abandoned, Throws.InstanceOf<OperationCanceledException>());

        var queue = await Http.WaitForQueueAsync(client, q => q.GetProperty("cancelled").GetInt64() == 1, "the drop of the departed client's job");
        Assert.That(queue.GetProperty("captioned").GetInt64(), Is.EqualTo(0), "its image never went through the model");
        Assert.That(queue.GetProperty("batches").GetInt64(), Is.EqualTo(0));

        using var next = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[1]));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}

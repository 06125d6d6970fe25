using System.Net.Http.Headers;
using System.Text.Json;

namespace CaptionServer.Tests;

/// <summary>Requests to the server and its JSON answers.</summary>
internal static class Http
{
    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, byte[] body, string query = "", string contentType = "image/jpeg", CancellationToken cancellationToken = default)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return client.PostAsync("/captions" + query, content, cancellationToken);
    }

    public static Task<HttpResponseMessage> PostFormAsync(HttpClient client, byte[] file, string query = "")
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(new StringContent("a note before the file"), "note");
        form.Add(part, "image", "photo.jpg");
        return client.PostAsync("/captions" + query, form);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The problem answer's detail, the reason the server gives.</summary>
    public static async Task<string> DetailAsync(HttpResponseMessage response) => (await JsonAsync(response)).GetProperty("detail").GetString()!;

    public static async Task<JsonElement> QueueAsync(HttpClient client) =>
        (await JsonAsync(await client.GetAsync("/health"))).GetProperty("queue");

    /// <summary>Polls /health until <paramref name="condition"/> holds of its queue counters (10 s at most).</summary>
    public static async Task<JsonElement> WaitForQueueAsync(HttpClient client, Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var queue = await QueueAsync(client);
            if (condition(queue)) return queue;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within 10 s; the queue: {queue}");
            await Task.Delay(20);
        }
    }
}

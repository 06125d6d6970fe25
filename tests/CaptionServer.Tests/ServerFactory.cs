using Microsoft.AspNetCore.Mvc.Testing;

namespace CaptionServer.Tests;

/// <summary>The server in memory (WebApplicationFactory's test server) on a tiny model, with settings of a test's own.</summary>
internal static class ServerFactory
{
    public static WebApplicationFactory<Program> Create(params (string Key, string Value)[] settings) => Serving(TinyModel.Folder, settings);

    /// <summary>The server in memory on the model folder <paramref name="model"/> (a saved captioner or a checkpoint).</summary>
    public static WebApplicationFactory<Program> Serving(string model, params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting($"{CaptionServerOptions.Section}:{nameof(CaptionServerOptions.Model)}", model);
            foreach (var (key, value) in settings) builder.UseSetting($"{CaptionServerOptions.Section}:{key}", value);
        });

    /// <summary>
    /// A client straight onto the test server: the factory's default client buffers every request body whole (to
    /// replay it on a redirect), which would hide how much of an upload the server reads.
    /// </summary>
    public static HttpClient Client(WebApplicationFactory<Program> server) =>
        server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
}

// Serves a saved captioner over HTTP: POST /captions (an image, raw or as a multipart file) answers its caption as
// JSON, GET / is a page to drop a photo on, GET /health and GET /model describe the server and the model. Requests
// that arrive together are captioned in one batched forward pass. See README.md.
using CaptionServer;
using ImageCaptioning.Samples;
using Microsoft.Extensions.Options;

try
{
    await using var app = CaptionServerApp.Create(args);
    await app.RunAsync();
    return ExitCodes.Success;
}
catch (Exception e) when (BadInput.Is(e) || e is OptionsValidationException)
{
    return BadInput.Report(e);
}
catch (Exception e) when (e is not HostAbortedException)
{
    // A bug, not bad input: the stack trace, and the exit code every sample gives a bug.
    Console.Error.WriteLine(e);
    return ExitCodes.Failure;
}

/// <summary>The entry point, public for WebApplicationFactory.</summary>
public partial class Program;

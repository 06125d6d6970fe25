using ImageCaptioning.Pipeline;
using ImageCaptioning.Vision;

namespace CaptionServer;

/// <summary>
/// The model the server was started with, whichever kind its folder holds (a saved captioner or a hub checkpoint), as
/// the batcher, the routes and the page use it: they never ask which kind it is.
/// </summary>
internal interface IServedCaptioner : IDisposable
{
    /// <summary>The folder's name, which every answer carries.</summary>
    string Name { get; }

    /// <summary>What <c>GET /model</c> answers.</summary>
    object Description { get; }

    /// <summary>The decoding a request asks for, on this model's defaults.</summary>
    /// <exception cref="FormatException">The model cannot decode that way (sampling, a prompt, a length it cannot count); the message names the option.</exception>
    RequestDecoding Decoding(DecodingRequest request, CaptionServerOptions limits);

    /// <summary>Captions decoded images (the caller keeps them) with one decoding, in one batched call, in order.</summary>
    IReadOnlyList<ScoredCaption> Caption(IReadOnlyList<RgbImage> images, RequestDecoding decoding, CancellationToken cancellationToken);

    /// <summary>Captions one image with the defaults, so that the first request does not pay libtorch's first-call setup.</summary>
    void WarmUp(CancellationToken cancellationToken);
}

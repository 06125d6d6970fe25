namespace ImageCaptioning.Vision;

/// <summary>
/// An image could not be decoded: it is corrupt, truncated, empty, too large or in an unsupported format.
/// The message names the source (usually the file path) and the reason. It is an <see cref="IOException"/>, so one
/// handler covers unreadable and undecodable files alike.
/// </summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>Creates the exception for <paramref name="source"/> failing for <paramref name="reason"/>.</summary>
    /// <param name="source">The file path or caller-supplied name of the encoded image; null when unnamed.</param>
    /// <param name="reason">Why decoding failed, in words (the codec's own message where it gave one).</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public ImageDecodeException(string? source, string reason, Exception? innerException = null)
        : base($"Cannot decode image '{source ?? "<unnamed>"}': {reason}", innerException)
    {
        SourceName = source;
        Reason = reason;
    }

    /// <summary>The file path or caller-supplied name of the image; null when the caller gave none.</summary>
    public string? SourceName { get; }

    /// <summary>Why decoding failed, without the source name.</summary>
    public string Reason { get; }
}

using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace CaptionServer;

/// <summary>A request whose upload is refused: the status to answer and why.</summary>
internal sealed class UploadException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads an upload, raw or the first file of a multipart form, into memory without ever reading more than the limit
/// and one byte: a larger upload is refused with 413 as soon as that byte arrives (at once when Content-Length says so).
/// </summary>
internal static class UploadReader
{
    // Room for a multipart form's boundaries and part headers around the file.
    private const int FormOverhead = 64 * 1024;

    public static async Task<byte[]> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var multipart = MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var bodyLimit = multipart ? limit + FormOverhead : limit;
        if (request.ContentLength is { } length && length > bodyLimit)
            throw TooLarge(limit, $"Content-Length is {length} bytes");
        // Kestrel's own limit (30 MB by default) would cut a larger allowed upload; it becomes this request's limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = bodyLimit + 1;

        if (!multipart) return await ReadBoundedAsync(request.Body, limit, cancellationToken);

        var boundary = HeaderUtilities.RemoveQuotes(type!.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw new UploadException(StatusCodes.Status400BadRequest, "the multipart/form-data Content-Type has no boundary");
        var reader = new MultipartReader(boundary, new LimitedStream(request.Body, bodyLimit, limit));
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
                    return await ReadBoundedAsync(section.Body, limit, cancellationToken);
            }
        }
        catch (UploadTooLargeException e)
        {
            throw TooLarge(limit, e.Message);
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UploadException(StatusCodes.Status400BadRequest, $"the multipart form is malformed: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new UploadException(StatusCodes.Status400BadRequest, $"the multipart form is malformed: {e.Message}");
        }
        throw new UploadException(StatusCodes.Status400BadRequest, "the multipart form has no file part: send the image as a file field (e.g. curl -F image=@photo.jpg)");
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            while (true)
            {
                // Never asks for more than the limit and one byte, whatever the chunk size.
                var wanted = (int)Math.Min(chunk.Length, limit + 1 - buffer.Length);
                var read = await body.ReadAsync(chunk.AsMemory(0, wanted), cancellationToken);
                if (read == 0) return buffer.ToArray();
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit) throw TooLarge(limit, "the body is longer");
            }
        }
        catch (UploadTooLargeException e)
        {
            throw TooLarge(limit, e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit, "the body is longer");
        }
    }

    private static UploadException TooLarge(long limit, string detail) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the upload is over the limit of {limit} bytes ({detail}; CaptionServer:MaxUploadBytes)");

    private sealed class UploadTooLargeException(string message) : IOException(message);

    // A form's whole body is bounded too, so parts before the file cannot be used to send unbounded data.
    private sealed class LimitedStream(Stream inner, long bodyLimit, long uploadLimit) : Stream
    {
        private long consumed;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => consumed; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var wanted = (int)Math.Min(buffer.Length, bodyLimit + 1 - consumed);
            if (wanted <= 0) throw new UploadTooLargeException($"the form is longer than {bodyLimit} bytes for an upload limit of {uploadLimit}");
            var read = await inner.ReadAsync(buffer[..wanted], cancellationToken);
            consumed += read;
            if (consumed > bodyLimit) throw new UploadTooLargeException($"the form is longer than {bodyLimit} bytes for an upload limit of {uploadLimit}");
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

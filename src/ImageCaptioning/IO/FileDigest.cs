using System.Security.Cryptography;

namespace ImageCaptioning.IO;

/// <summary>
/// SHA-256 digests as lower-case hex (what <c>sha256sum</c> prints), recorded beside the files a bundle, checkpoint
/// or feature store writes, so that a file changed or damaged afterwards is refused when read instead of silently
/// giving other results.
/// </summary>
internal static class FileDigest
{
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The SHA-256 of a JSON object's content without its key <paramref name="digestKey"/> (where the file keeps its own
    /// digests): the object written compactly, keys in the file's order. A file cannot hold the digest of its own
    /// bytes; this form ignores only whitespace, so every change of a key or a value changes the digest.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">The bytes are not a JSON object, or repeat a key.</exception>
    public static string JsonSha256(ReadOnlySpan<byte> json, string digestKey)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false })?.AsObject()
            ?? throw new System.Text.Json.JsonException("the document is null, not an object");
        root.Remove(digestKey);
        return Sha256(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()));
    }

    /// <summary>Whether <paramref name="digest"/> is a SHA-256 as this class writes it: 64 lower-case hex digits.</summary>
    public static bool IsSha256(string? digest) => digest is { Length: 64 } && digest.All(char.IsAsciiHexDigitLower);

    /// <summary>Throws naming <paramref name="path"/> when its digest is not the one <paramref name="recordedIn"/> holds.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The digests differ.</exception>
    public static void Verify(string path, string expected, string recordedIn)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist, but {recordedIn} records its SHA-256", path);
        var actual = Sha256(path);
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: {MismatchReason(actual, expected, recordedIn)}");
    }

    /// <summary>The words of a mismatch, for the exception type of each area.</summary>
    public static string MismatchReason(string actual, string expected, string recordedIn) =>
        $"the SHA-256 is {actual} but {recordedIn} records {expected}: the file was changed or damaged after it was written";
}

using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

/// <summary>
/// A JSON caption file held in memory so that a <see cref="Utf8JsonReader"/> can stream over it and a semantic error
/// can be reported with the line of the offending object.
/// </summary>
internal sealed class JsonCaptionFile
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private readonly byte[] bytes;
    private readonly int start;

    private JsonCaptionFile(string path, byte[] bytes)
    {
        Path = path;
        this.bytes = bytes;
        start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
    }

    public string Path { get; }

    public static JsonCaptionFile Open(string path, CaptionReaderOptions? options, ILogger? logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"caption file '{path}' does not exist", path);
        return new JsonCaptionFile(path, CaptionFileText.ValidUtf8(path, File.ReadAllBytes(path), options, logger));
    }

    public Utf8JsonReader CreateReader() => new(bytes.AsSpan(start), ReaderOptions);

    /// <summary>An error at the token that starts at <paramref name="tokenStart"/> (an offset the reader reported).</summary>
    public CaptionFormatException Error(long tokenStart, string reason)
    {
        var line = 1 + bytes.AsSpan(start, (int)Math.Min(tokenStart, bytes.Length - start)).Count((byte)'\n');
        return new CaptionFormatException(Path, line, reason);
    }

    /// <summary>Turns the reader's syntax error into a located <see cref="CaptionFormatException"/>.</summary>
    public CaptionFormatException SyntaxError(JsonException exception) =>
        new(Path, (int)(exception.LineNumber ?? 0) + 1, $"invalid JSON: {exception.Message}", exception);

    public void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (!reader.Read() || reader.TokenType != type)
            throw Error(reader.TokenStartIndex, $"expected {what} but found {Describe(reader.TokenType)}");
    }

    public string ReadString(ref Utf8JsonReader reader, string property)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
            throw Error(reader.TokenStartIndex, $"'{property}' must be a string but is {Describe(reader.TokenType)}");
        var tokenStart = reader.TokenStartIndex;
        return CaptionFileText.RefuseControls(reader.GetString()!, property, reason => Error(tokenStart, reason));
    }

    public long ReadInt64(ref Utf8JsonReader reader, string property)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
            throw Error(reader.TokenStartIndex, $"'{property}' must be an integer but is {Describe(reader.TokenType)}");
        return value;
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.None => "the end of the file",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };
}

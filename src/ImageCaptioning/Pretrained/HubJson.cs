using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.IO;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// One JSON object of a Hugging Face checkpoint folder (config.json, a sub-config such as its <c>decoder</c>,
/// preprocessor_config.json, generation_config.json). Those files carry many keys this library does not read, so
/// they are not read strictly; instead every key that is read is checked for its type and range, and a bad or
/// missing one is an <see cref="InvalidDataException"/> naming the file and the key's full path
/// (<c>decoder.n_embd</c>).
/// </summary>
internal sealed class HubJson
{
    private readonly JsonObject node;
    private readonly string prefix;

    private HubJson(string filePath, JsonObject node, string prefix) => (FilePath, this.node, this.prefix) = (filePath, node, prefix);

    /// <summary>The file the object was read from.</summary>
    public string FilePath { get; }

    /// <summary>Reads <paramref name="path"/>, which must hold one JSON object.</summary>
    /// <exception cref="InvalidDataException">The file is not JSON, not an object, or too large; the message names it.</exception>
    public static HubJson Read(string path, string what)
    {
        var bytes = JsonFile.ReadBytes(path, what);
        Utf8Text.Require(bytes, path);
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid {what} ({e.Message})", e);
        }
        return parsed is JsonObject root ? new HubJson(path, root, "") : throw new InvalidDataException($"{path}: a {what} must be one JSON object");
    }

    /// <summary>The full path of <paramref name="key"/> in the file, as messages name it.</summary>
    public string KeyPath(string key) => prefix + key;

    /// <summary>Whether the key is present with a value other than null.</summary>
    public bool Has(string key) => node.TryGetPropertyValue(key, out var value) && value is not null;

    /// <summary>An error about <paramref name="key"/> of this file.</summary>
    public InvalidDataException Invalid(string key, string reason) => new($"{FilePath}: '{KeyPath(key)}' {reason}");

    /// <summary>The nested object under <paramref name="key"/>, which must be present.</summary>
    public HubJson Section(string key) => OptionalSection(key) ?? throw Invalid(key, "is missing: it must be an object");

    /// <summary>The nested object under <paramref name="key"/>, or null when absent.</summary>
    public HubJson? OptionalSection(string key) => Value(key) switch
    {
        null => null,
        JsonObject section => new HubJson(FilePath, section, KeyPath(key) + "."),
        _ => throw Invalid(key, "must be an object"),
    };

    /// <summary>A required integer.</summary>
    public int Int(string key) => OptionalInt(key) ?? throw Invalid(key, "is missing: it must be an integer");

    /// <summary>An integer, or <paramref name="fallback"/> when absent or null.</summary>
    public int Int(string key, int fallback) => OptionalInt(key) ?? fallback;

    /// <summary>An integer, or null when absent or null.</summary>
    public int? OptionalInt(string key)
    {
        var value = Value(key);
        if (value is null) return null;
        return value is JsonValue v && v.TryGetValue<int>(out var number) ? number
            : value is JsonValue d && d.TryGetValue<double>(out var real) && real == Math.Floor(real) && Math.Abs(real) <= int.MaxValue ? (int)real
            : throw Invalid(key, $"must be an integer, not {Describe(value)}");
    }

    /// <summary>A positive integer (at least <paramref name="minimum"/>).</summary>
    public int IntAtLeast(string key, int minimum, int? fallback = null)
    {
        var value = OptionalInt(key) ?? fallback ?? throw Invalid(key, "is missing: it must be an integer");
        return value >= minimum ? value : throw Invalid(key, $"is {value}; it must be at least {minimum}");
    }

    /// <summary>A number, or <paramref name="fallback"/> when absent or null.</summary>
    public double Double(string key, double fallback)
    {
        var value = Value(key);
        if (value is null) return fallback;
        return value is JsonValue v && v.TryGetValue<double>(out var number) && double.IsFinite(number)
            ? number
            : throw Invalid(key, $"must be a finite number, not {Describe(value)}");
    }

    /// <summary>A boolean, or <paramref name="fallback"/> when absent or null.</summary>
    public bool Bool(string key, bool fallback)
    {
        var value = Value(key);
        if (value is null) return fallback;
        return value is JsonValue v && v.TryGetValue<bool>(out var flag) ? flag : throw Invalid(key, $"must be true or false, not {Describe(value)}");
    }

    /// <summary>A string, or null when absent or null.</summary>
    public string? String(string key)
    {
        var value = Value(key);
        if (value is null) return null;
        return value is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw Invalid(key, $"must be a string, not {Describe(value)}");
    }

    /// <summary>A list of strings, or null when absent or null.</summary>
    public IReadOnlyList<string>? Strings(string key) => Value(key) switch
    {
        null => null,
        JsonArray array => array.Select((item, i) => item is JsonValue v && v.TryGetValue<string>(out var text)
            ? text : throw Invalid($"{key}[{i}]", $"must be a string, not {Describe(item)}")).ToList(),
        var other => throw Invalid(key, $"must be a list of strings, not {Describe(other)}"),
    };

    /// <summary>An integer or a list of integers (as <c>eos_token_id</c> may be), or null when absent or null.</summary>
    public IReadOnlyList<int>? IntOrInts(string key) => Value(key) switch
    {
        null => null,
        JsonArray array => array.Select((item, i) => item is JsonValue v && v.TryGetValue<int>(out var number)
            ? number : throw Invalid($"{key}[{i}]", $"must be an integer, not {Describe(item)}")).ToList(),
        _ => [Int(key)],
    };

    /// <summary>A list of numbers, or null when absent or null.</summary>
    public IReadOnlyList<double>? Doubles(string key) => Value(key) switch
    {
        null => null,
        JsonArray array => array.Select((item, i) => item is JsonValue v && v.TryGetValue<double>(out var number) && double.IsFinite(number)
            ? number : throw Invalid($"{key}[{i}]", $"must be a finite number, not {Describe(item)}")).ToList(),
        JsonValue single when single.TryGetValue<double>(out var number) => [number],
        var other => throw Invalid(key, $"must be a list of numbers, not {Describe(other)}"),
    };

    /// <summary>The raw node under <paramref name="key"/>, or null.</summary>
    public JsonNode? Value(string key) => node.TryGetPropertyValue(key, out var value) ? value : null;

    private static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ => value.ToJsonString(),
    };
}

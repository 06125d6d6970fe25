using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ImageCaptioning.IO;

/// <summary>Reads the library's JSON files (captioner configs, checkpoints) so that every failure names the file and the key.</summary>
internal static class JsonFile
{
    /// <summary>
    /// The most bytes a settings file may have. The library's own files are a few kilobytes; a larger one is not one of
    /// them, and is refused before it is read.
    /// </summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>
    /// <paramref name="options"/> made strict for files the library writes itself: a key the type does not have (a typo,
    /// a key of another casing, a key of another version) or a key given twice is an error naming the key, enum values
    /// must be names, and a value an options record refuses as it is set is reported with its key's path.
    /// </summary>
    public static JsonSerializerOptions Strict(JsonSerializerOptions options)
    {
        var strict = new JsonSerializerOptions(options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            PropertyNameCaseInsensitive = false,
            TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(ReportRefusedValuesWithTheirPath),
        };
        for (var i = 0; i < strict.Converters.Count; i++)
            if (strict.Converters[i] is JsonStringEnumConverter)
                strict.Converters[i] = new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false);
        return strict;
    }

    /// <summary>The object in <paramref name="path"/>, read as <see cref="Parse{T}"/> reads it.</summary>
    /// <exception cref="InvalidDataException">The file is larger than <see cref="MaxBytes"/>, or see <see cref="Parse{T}"/>.</exception>
    public static T Read<T>(string path, JsonSerializerOptions options, string what) where T : class =>
        Parse<T>(ReadBytes(path, what), path, options, what);

    /// <summary>The bytes of <paramref name="path"/>, refused when larger than <see cref="MaxBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The file is too large to be a <paramref name="what"/>.</exception>
    public static byte[] ReadBytes(string path, string what)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length > MaxBytes)
            throw new InvalidDataException($"{path}: the file has {stream.Length} bytes; a {what} has at most {MaxBytes}");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// The object in <paramref name="json"/>, read from <paramref name="path"/>. Malformed JSON, a key the options refuse
    /// (see <see cref="Strict"/>), a setting its options record refuses (options check their values as they are set, so
    /// while deserializing) and an empty document are <see cref="InvalidDataException"/>s naming the file and, where
    /// there is one, the key; <paramref name="what"/> says what the file should be.
    /// </summary>
    public static T Parse<T>(ReadOnlySpan<byte> json, string path, JsonSerializerOptions options, string what) where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, options);
        }
        catch (JsonException e) when (e.InnerException is ArgumentException refused)
        {
            throw new InvalidDataException($"{path}: '{Key(e.Path)}' is invalid: {refused.Message}", e);
        }
        catch (JsonException e)
        {
            var where = e.Path is null || e.Message.Contains(e.Path, StringComparison.Ordinal) ? "" : $" at '{Key(e.Path)}'";
            throw new InvalidDataException($"{path}: not a valid {what}{where} ({e.Message})", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: the {what} holds an invalid setting: {e.Message}", e);
        }
        return value ?? throw new InvalidDataException($"{path}: the {what} is empty (null)");
    }

    // "$.decoding.maxLength" → "decoding.maxLength", the way the library's messages name keys.
    private static string Key(string? jsonPath) =>
        jsonPath is null ? "(unknown key)" : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath;

    // A setter's ArgumentException carries no JSON position; rethrown as a JsonException, the serializer adds the path.
    private static void ReportRefusedValuesWithTheirPath(JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
        {
            if (property.Set is not { } set) continue;
            property.Set = (target, value) =>
            {
                try
                {
                    set(target, value);
                }
                catch (ArgumentException e)
                {
                    throw new JsonException(e.Message, e);
                }
            };
        }
    }
}

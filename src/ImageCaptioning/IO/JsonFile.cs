using System.Text.Json;

namespace ImageCaptioning.IO;

/// <summary>Reads the library's JSON files (captioner configs, checkpoints) so that every failure names the file.</summary>
internal static class JsonFile
{
    /// <summary>
    /// The object in <paramref name="path"/>. Malformed JSON, a setting its options record refuses (options check their
    /// values as they are set, so while deserializing) and an empty document are <see cref="InvalidDataException"/>s
    /// naming the file; <paramref name="what"/> says what the file should be.
    /// </summary>
    public static T Read<T>(string path, JsonSerializerOptions options, string what) where T : class
    {
        T? value;
        try
        {
            using var stream = File.OpenRead(path);
            value = JsonSerializer.Deserialize<T>(stream, options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid {what} ({e.Message})", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: the {what} holds an invalid setting: {e.Message}", e);
        }
        return value ?? throw new InvalidDataException($"{path}: the {what} is empty (null)");
    }
}

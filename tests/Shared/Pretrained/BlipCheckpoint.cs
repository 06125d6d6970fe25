using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageCaptioning.Testing;

/// <summary>
/// A tiny random BLIP captioning folder written by the reference (blip_reference.py make): the real key names and
/// config fields, pytorch_model.bin by torch.save (with the tied decoder copies and the position_ids buffer) and a
/// hand-written model.safetensors (without the tied copies), a small vocab.txt whose special ids differ from BERT's.
/// Shared by the library's parity tests and the server's tests.
/// </summary>
internal sealed class BlipCheckpoint : IDisposable
{
    /// <summary>A vocabulary with [SEP] at 3 and [PAD] at 0, so that no id of the real BERT vocabulary can pass by accident.</summary>
    public static readonly string[] Vocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "picture", "of", "dog", "cat", "on", "the", "grass", ".", ",", "!", "?", "'",
        "s", "##s", "runn", "##ing", "man", "cafe", "t", "don", "two", "sitting", "red", "ball", "naive", "resume", "hello", "##ed",
        "want", "un", "##aff", "##able", "\u535A", "-", "$", "1", "##0", "photo",
    ];

    private readonly TempDirectory directory = new();

    private BlipCheckpoint()
    {
    }

    public string Folder => Path.Combine(directory.Path, "model");

    public string SpecFile => directory.File("spec.json");

    public string File(string name) => Path.Combine(Folder, name);

    /// <summary>Writes a checkpoint; <paramref name="configure"/> may change the spec the reference reads.</summary>
    public static BlipCheckpoint Create(int seed = 3, Action<JsonObject>? configure = null)
    {
        PythonReference.Require("torch", "numpy");
        var checkpoint = new BlipCheckpoint();
        var spec = new JsonObject
        {
            ["seed"] = seed,
            ["vocab"] = new JsonArray([.. Vocabulary.Select(v => (JsonNode)v)]),
            ["vision"] = new JsonObject { ["hidden"] = 16, ["intermediate"] = 24, ["layers"] = 2, ["heads"] = 2, ["image"] = 32, ["patch"] = 8, ["eps"] = 1e-5 },
            ["text"] = new JsonObject { ["hidden"] = 16, ["intermediate"] = 24, ["layers"] = 2, ["heads"] = 2, ["positions"] = 40, ["eps"] = 1e-12 },
            ["sep_bias"] = 0.7,
        };
        configure?.Invoke(spec);
        System.IO.File.WriteAllText(checkpoint.SpecFile, spec.ToJsonString());
        PythonReference.Run("blip_reference.py", "make", checkpoint.Folder, checkpoint.SpecFile);
        return checkpoint;
    }

    /// <summary>Runs the reference on this folder's pytorch_model.bin with <paramref name="spec"/>.</summary>
    public JsonElement Run(JsonObject spec)
    {
        var path = directory.File($"run-{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, spec.ToJsonString());
        return JsonDocument.Parse(PythonReference.Run("blip_reference.py", "run", Folder, path)).RootElement;
    }

    public void Dispose() => directory.Dispose();
}

using System.Text.Json;
using System.Text.Json.Nodes;
namespace ImageCaptioning.Testing;

/// <summary>
/// Tiny random ViT-GPT-2 checkpoint folders made by the Python reference with Hugging Face's key names and config fields,
/// shared by the library's parity tests and the server's tests.
/// </summary>
internal static class VitGpt2Fixture
{
    public const string Script = "pretrained_vit_gpt2.py";

    /// <summary>Texts of the hidden-case style: punctuation, accents, runs of spaces, tabs and newlines, emoji, the special token.</summary>
    public static readonly string[] Texts =
    [
        "a man riding a horse, on the beach!",
        "  runs   of spaces\t\tand\n\nlines  ",
        "Café déjà vu — naïve façade, Ünïcödé",
        "emoji 🐶🐱 and 👍🏽! 🏳️‍🌈",
        "<|endoftext|>start and end<|endoftext|>",
        "it's they're I'm don't we've . , ? !",
        "12 apples and 345 oranges, 3.14",
        " ",
        "",
    ];

    /// <summary>
    /// A spec for the reference's <c>make</c>: ViT 24 wide (so <c>enc_to_dec_proj</c> is needed) and GPT-2 32 wide, 2 layers each,
    /// 32x32 images in 8x8 patches, weights drawn with std scale/sqrt(fan-in) (activations of order one, a well-conditioned
    /// float32 model) and the end token's row scaled, so that captions end at varied lengths.
    /// </summary>
    public static JsonObject Spec(string[] formats, int seed = 6, double eosScale = 1.6, JsonObject? generation = null, int encoderWidth = 24,
        JsonNode? size = null, int maxLength = 12, double scale = 1.3)
    {
        var spec = new JsonObject
        {
            ["seed"] = seed,
            ["scale"] = scale,
            ["eos_scale"] = eosScale,
            ["formats"] = new JsonArray([.. formats.Select(f => (JsonNode)f)]),
            ["images"] = new JsonArray(new JsonArray(50, 37), new JsonArray(32, 32), new JsonArray(300, 200), new JsonArray(64, 48)),
            ["encoder"] = new JsonObject
            {
                ["hidden_size"] = encoderWidth, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4, ["intermediate_size"] = 48,
                ["hidden_act"] = "gelu", ["layer_norm_eps"] = 1e-12, ["image_size"] = 32, ["patch_size"] = 8, ["num_channels"] = 3, ["qkv_bias"] = true,
            },
            ["decoder"] = new JsonObject
            {
                ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 40, ["n_inner"] = null,
                ["activation_function"] = "gelu_new", ["layer_norm_epsilon"] = 1e-5,
            },
            ["preprocessor"] = new JsonObject
            {
                ["do_normalize"] = true, ["do_resize"] = true, ["feature_extractor_type"] = "ViTFeatureExtractor",
                ["image_mean"] = new JsonArray(0.5, 0.5, 0.5), ["image_std"] = new JsonArray(0.5, 0.5, 0.5), ["resample"] = 2,
                ["size"] = size ?? 32,
            },
            ["top_level"] = new JsonObject { ["max_length"] = maxLength, ["num_beams"] = 3 },
        };
        if (generation is not null) spec["generation"] = generation;
        return spec;
    }

    /// <summary>Writes the folder <paramref name="name"/> under <paramref name="root"/> with the reference and returns its path.</summary>
    public static string Make(TempDirectory root, string name, JsonObject spec)
    {
        var folder = root.File(name);
        var specPath = root.File(name + "-spec.json");
        File.WriteAllText(specPath, spec.ToJsonString());
        PythonReference.Run(Script, "make", folder, specPath);
        return folder;
    }

    public static readonly string[] Images = ["image0.png", "image1.png", "image2.png", "image3.png"];

    /// <summary>Runs the reference on a folder: pixel values, logits of <paramref name="decoderInputIds"/>, greedy and beam results, tokenizer checks.</summary>
    public static JsonElement Run(TempDirectory root, string folder, JsonObject run)
    {
        var path = root.File(Path.GetFileName(folder) + "-run.json");
        File.WriteAllText(path, run.ToJsonString());
        return JsonDocument.Parse(PythonReference.Run(Script, "run", folder, path)).RootElement;
    }
}

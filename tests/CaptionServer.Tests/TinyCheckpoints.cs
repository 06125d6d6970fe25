using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;

namespace CaptionServer.Tests;

/// <summary>
/// Tiny random hub checkpoint folders of both architectures, written once per run by the library's own parity
/// references (<see cref="VitGpt2Fixture"/>, <see cref="BlipCheckpoint"/>), and the library's captions of them, the
/// reference for the server's answers (the library is checked against PyTorch by its own tests).
/// </summary>
internal static class TinyCheckpoints
{
    // A seed and end-token scale whose captions differ from scene to scene, so that an answer given to the wrong request shows.
    private static readonly Lazy<string> VitGpt2Folder = new(() =>
        VitGpt2Fixture.Make(TinyModel.Directory, "vit-gpt2", VitGpt2Fixture.Spec(["safetensors"], seed: 2, eosScale: 0.8)));

    private static readonly Lazy<BlipCheckpoint> Blip = new(() => BlipCheckpoint.Create());

    /// <summary>A VisionEncoderDecoderModel (ViT + GPT-2) folder: 32x32 images, max_length 12, num_beams 3 in config.json.</summary>
    public static string VitGpt2
    {
        get
        {
            PythonReference.Require("torch", "numpy", "regex");
            return VitGpt2Folder.Value;
        }
    }

    /// <summary>A BlipForConditionalGeneration folder: 32x32 images, Hugging Face's generation defaults (greedy, max_length 20), a small WordPiece vocabulary.</summary>
    public static string BlipFolder
    {
        get
        {
            PythonReference.Require("torch", "numpy");
            return Blip.Value.Folder;
        }
    }

    /// <summary>The folder of the architecture a test case names.</summary>
    public static string Folder(string architecture) => architecture switch
    {
        "vit-gpt2" => VitGpt2,
        "blip" => BlipFolder,
        _ => throw new ArgumentException($"no tiny checkpoint '{architecture}'", nameof(architecture)),
    };

    /// <summary>What the library answers for an image file, loaded from the same folder and called as a user calls it.</summary>
    public static PretrainedCaption Expected(string folder, string file, PretrainedGenerationOptions? generation = null, string? prompt = null) =>
        Expected(folder, [file], generation, prompt)[0];

    /// <summary>The library's captions of image files, each captioned alone.</summary>
    public static IReadOnlyList<PretrainedCaption> Expected(string folder, IReadOnlyList<string> files, PretrainedGenerationOptions? generation = null, string? prompt = null)
    {
        using var captioner = PretrainedCaptioner.Load(folder);
        return [.. files.Select(file =>
        {
            using var image = ImageDecoder.Decode(file);
            return captioner.Caption([image], generation, prompt)[0];
        })];
    }

    /// <summary>Deletes the BLIP folder (the ViT-GPT-2 one lies under <see cref="TinyModel.Directory"/>).</summary>
    public static void Delete()
    {
        if (Blip.IsValueCreated) Blip.Value.Dispose();
    }
}

using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using ImageCaptioning.Pretrained;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Captions per second of pretrained checkpoints (random weights) from pixel values, batch 1 and 16, greedy and beam 4,
/// max_length 20, decoded to text: ViT-GPT-2 "tiny" (the parity tests' size) and "full" (ViT-base/16 at 224, GPT-2
/// small with 50,257 tokens), BLIP "blip-tiny" and "blip-base" (ViT-B/16 at 384, BERT-base decoder, 30,524 tokens).
/// benchmarks/reference/pretrained.py times the python3-torch references generating on a KV cache as transformers'
/// generate does, on the same folders and pixel values (IMAGECAPTIONING_PRETRAINED_BENCH, or folders it makes).
/// The job comes from the command line (benchmarks/compare.py passes --job); the iteration bounds below only keep
/// the default job of a full-size case, seconds per call, to minutes.
/// </summary>
[BenchmarkCategory("pretrained")]
[MaxWarmupCount(8)]
[MaxIterationCount(20)]
public class PretrainedBenchmarks
{
    private PretrainedCaptioner captioner = null!;
    private Tensor pixels = null!;
    private PretrainedGenerationOptions options = null!;

    /// <summary>
    /// The configurations to run: IMAGECAPTIONING_PRETRAINED_CONFIGS (comma-separated among tiny, full, blip-tiny,
    /// blip-base), "tiny,blip-tiny" by default.
    /// </summary>
    [ParamsSource(nameof(Configs))]
    public string Config { get; set; } = "tiny";

    public static IEnumerable<string> Configs() =>
        (Environment.GetEnvironmentVariable("IMAGECAPTIONING_PRETRAINED_CONFIGS") ?? "tiny,blip-tiny").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Params(1, 16)]
    public int Batch { get; set; }

    [Params(1, 4)]
    public int Beams { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ReferenceScript.ApplyThreads();
        var root = Environment.GetEnvironmentVariable("IMAGECAPTIONING_PRETRAINED_BENCH");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Path.GetTempPath(), "ic-pretrained-bench");
        var folder = Path.Combine(root, Config);
        // The script writes only the folders that are missing, so the full sizes are made once per machine.
        if (!File.Exists(Path.Combine(folder, "model.safetensors")))
            ReferenceScript.Run("pretrained.py", ["make", root, Config], "or set IMAGECAPTIONING_PRETRAINED_BENCH to a folder holding " + Config);
        captioner = PretrainedCaptioner.Load(folder);
        var size = ImageSize(folder);
        using (var index = torch.arange(Batch * 3L * size * size, ScalarType.Float64))
            pixels = index.mul(0.37).sin().to(ScalarType.Float32).view(Batch, 3, size, size).DetachFromDisposeScope();
        options = new PretrainedGenerationOptions { NumBeams = Beams, MaxLength = 20 };
        Console.WriteLine($"// {Config}/{Batch}/{Beams}: {Caption().Sum(c => c.TokenIds.Count)} tokens");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        pixels.Dispose();
        captioner.Dispose();
    }

    /// <summary>One batch captioned; captions per second are Batch / the time.</summary>
    [Benchmark]
    public IReadOnlyList<PretrainedCaption> Caption() => captioner.Generate(pixels, options);

    // The processor's output size, as the reference reads it: BLIP's vision_config, else the ViT encoder's.
    private static int ImageSize(string folder)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        return (config["vision_config"] ?? config["encoder"])!["image_size"]!.GetValue<int>();
    }
}

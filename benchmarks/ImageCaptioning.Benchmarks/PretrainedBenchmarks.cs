using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ImageCaptioning.Pretrained;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Captions per second of a pretrained ViT-GPT-2 checkpoint (random weights) from pixel values: the tiny configuration
/// of the parity tests and the full-size one (ViT-base/16 at 224, GPT-2 small with 50,257 tokens), batch 1 and 16,
/// greedy and beam 4, max_length 20, decoded to text. benchmarks/reference/pretrained.py times the python3-torch
/// reference generating with a KV cache as transformers' generate does, on the same folders and pixel values
/// (IMAGECAPTIONING_PRETRAINED_BENCH, or folders it makes).
/// </summary>
[BenchmarkCategory("pretrained")]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class PretrainedBenchmarks
{
    private PretrainedCaptioner captioner = null!;
    private Tensor pixels = null!;
    private PretrainedGenerationOptions options = null!;

    /// <summary>
    /// The configurations to run: IMAGECAPTIONING_PRETRAINED_CONFIGS (comma-separated), "tiny" by default. A full-size
    /// case takes longer than BenchmarkDotNet's in-process limit: run "full" with --outOfProcess.
    /// </summary>
    [ParamsSource(nameof(Configs))]
    public string Config { get; set; } = "tiny";

    public static IEnumerable<string> Configs() =>
        (Environment.GetEnvironmentVariable("IMAGECAPTIONING_PRETRAINED_CONFIGS") ?? "tiny").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Params(1, 16)]
    public int Batch { get; set; }

    [Params(1, 4)]
    public int Beams { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Environment.GetEnvironmentVariable("IMAGECAPTIONING_NUM_THREADS") is { } threads) torch.set_num_threads(int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture));
        var root = Environment.GetEnvironmentVariable("IMAGECAPTIONING_PRETRAINED_BENCH");
        if (string.IsNullOrEmpty(root))
        {
            root = Path.Combine(Path.GetTempPath(), "ic-pretrained-bench");
            if (!File.Exists(Path.Combine(root, "full", "config.json"))) Make(root);
        }
        captioner = PretrainedCaptioner.Load(Path.Combine(root, Config));
        var size = Config == "full" ? 224 : 32;
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

    private static void Make(string root)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { ReferenceScript.Find("pretrained.py"), "make", root }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"pretrained.py make failed ({process.ExitCode}): {error}");
    }
}

using System.Text.Json;
using ImageCaptioning.Testing;

namespace ImageCaptioning.Tests.Vision;

/// <summary>
/// The images made by reference/vision_images.py with PIL, with what PIL decodes them to and what torchvision's
/// eval transforms make of them. Generated once per test run into a temporary folder.
/// </summary>
internal sealed class ReferenceImages : IDisposable
{
    private static readonly Lazy<ReferenceImages> Shared = new(() => new ReferenceImages(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly TempDirectory directory = new();

    private ReferenceImages()
    {
        PythonReference.Run("vision_images.py", directory.Path);
        using var manifest = JsonDocument.Parse(File.ReadAllText(directory.File("manifest.json")));
        Entries = manifest.RootElement.EnumerateArray().Select(entry => new Entry(
            directory.File(entry.GetProperty("file").GetString()!),
            entry.GetProperty("width").GetInt32(),
            entry.GetProperty("height").GetInt32(),
            entry.GetProperty("lossless").GetBoolean(),
            directory.File(entry.GetProperty("rgb").GetString()!),
            entry.GetProperty("upright").GetString() is { } upright ? directory.File(upright) : null,
            entry.GetProperty("transforms").EnumerateObject().ToDictionary(
                t => t.Name,
                t => (directory.File(t.Value.GetProperty("file").GetString()!),
                      t.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))))
            .ToList();
    }

    /// <summary>The generated images (made on first use; needs PIL, numpy and torchvision).</summary>
    public static ReferenceImages Get()
    {
        PythonReference.Require("PIL", "numpy", "torchvision");
        return Shared.Value;
    }

    public IReadOnlyList<Entry> Entries { get; }

    public Entry this[string fileName] => Entries.Single(e => Path.GetFileName(e.Path) == fileName);

    public string Directory => directory.Path;

    public void Dispose() => directory.Dispose();

    internal sealed record Entry(
        string Path, int Width, int Height, bool Lossless, string RgbPath, string? UprightRgbPath,
        IReadOnlyDictionary<string, (string File, long[] Shape)> Transforms)
    {
        public string Name => System.IO.Path.GetFileName(Path);

        public byte[] PilRgb() => File.ReadAllBytes(RgbPath);

        /// <summary>PIL's <c>ImageOps.exif_transpose(image).convert("RGB")</c> (only the EXIF-oriented JPEGs have it).</summary>
        public byte[] PilUprightRgb() => File.ReadAllBytes(UprightRgbPath ?? throw new InvalidOperationException($"{Name} has no upright reference"));

        public float[] TorchvisionOutput(string transform)
        {
            var bytes = File.ReadAllBytes(Transforms[transform].File);
            var values = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            return values;
        }

        public override string ToString() => Name;
    }
}

using ImageCaptioning.Features;
using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Features;

/// <summary>
/// Damaged copies of a feature store's three files, read as training reads a store: opened, verified (the pipeline's
/// <see cref="FeatureStore.Verify"/>), then every row and id. The index, the ids and every chunk of rows are covered
/// by digests, so nothing may read other features or bind them to other images.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class FeatureStoreFuzzTests
{
    private const int Dimension = 64;
    private const int Rows = 40;
    private static readonly string[] Files = [FeatureStore.FeaturesFileName, FeatureStore.IdsFileName, FeatureStore.IndexFileName];
    private static readonly Type[] Documented = [typeof(FeatureStoreException)];

    private TempDirectory shared = null!;
    private (string[] Ids, float[] Rows) original;

    private string Source => shared.File("store");

    [OneTimeSetUp]
    public void WriteStore()
    {
        shared = new TempDirectory();
        // 256-byte rows in 4,096-byte digest chunks: 16 rows each, the last of 3 chunks partial; committed in 3 appends.
        using (var store = FeatureStore.OpenOrCreate(Source, Dimension, "fuzz-extractor", "Resize(8x8)",
                   new FeatureStoreOptions { DigestChunkBytes = FeatureStoreOptions.MinDigestChunkBytes }))
        {
            var values = Enumerable.Range(0, Rows * Dimension).Select(i => MathF.Sin(i) * 10).ToArray();
            var ids = Enumerable.Range(0, Rows).Select(i => $"photo_{i:D3}.jpg").ToArray();
            foreach (var (first, count) in new[] { (0, 7), (7, 20), (27, 13) })
                store.Append(ids[first..(first + count)], values.AsSpan(first * Dimension, count * Dimension));
        }

        original = ReadAsTrainingDoes(Source);
    }

    [OneTimeTearDown]
    public void Delete() => shared.Dispose();

    [TestCaseSource(nameof(Files))]
    public void DamageIsRefusedOrChangesNothing(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Source, file));
        var tally = new FuzzTally($"feature store {file}");
        foreach (var fuzzCase in FileMutations.Cases(bytes, FuzzSettings.CasesPerKind, FuzzSettings.Seed + 40 + Array.IndexOf(Files, file)))
        {
            using var dir = new TempDirectory();
            foreach (var f in Files) File.Copy(Path.Combine(Source, f), Path.Combine(dir.Path, f));
            File.WriteAllBytes(Path.Combine(dir.Path, file), fuzzCase.Bytes);
            tally.Run(fuzzCase, _ =>
            {
                var read = ReadAsTrainingDoes(dir.Path);
                return read.Ids.SequenceEqual(original.Ids) && read.Rows.AsSpan().SequenceEqual(original.Rows)
                    ? FuzzOutcome.Identical
                    : FuzzOutcome.LoadedDifferent;
            }, Documented, e => e.Message.Contains("SHA-256", StringComparison.Ordinal));
        }
        tally.Report();
        tally.AssertNothingLoadedDifferent();
        Assert.That(tally[FuzzOutcome.RefusedByCheck], Is.GreaterThan(0));
    }

    private static (string[] Ids, float[] Rows) ReadAsTrainingDoes(string folder)
    {
        using var store = FeatureStore.Open(folder);
        store.Verify();
        var rows = new float[store.Count * store.Dimension];
        for (var row = 0; row < store.Count; row++) store.Read(row, rows.AsSpan(row * store.Dimension, store.Dimension));
        return ([.. store.ImageIds], rows);
    }
}

using System.Text.Json;
using ImageCaptioning.Data;
using ImageCaptioning.Features;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Features;

[TestFixture]
public sealed class FeatureStoreTests
{
    private TempDirectory scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = new TempDirectory();

    [TearDown]
    public void DeleteScratch() => scratch.Dispose();

    private string StoreDirectory => scratch.File("store");

    /// <summary>Deterministic distinct rows: row r, column c holds a value no other cell holds.</summary>
    private static float[] Rows(int firstRow, int count, int dimension)
    {
        var values = new float[count * dimension];
        for (var r = 0; r < count; r++)
            for (var c = 0; c < dimension; c++)
                values[r * dimension + c] = (firstRow + r) * 1000 + c * 0.5f - 3.25f;
        return values;
    }

    private static string[] Ids(int first, int count) => Enumerable.Range(first, count).Select(i => $"img_{i:D4}.jpg").ToArray();

    private static float[] ReadAll(IFeatureSource source)
    {
        var values = new float[source.ImageIds.Count * source.Dimension];
        for (var row = 0; row < source.ImageIds.Count; row++) source.Read(row, values.AsSpan(row * source.Dimension, source.Dimension));
        return values;
    }

    [Test]
    public void Appended_rows_read_back_by_row_and_by_id_and_survive_reopening()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 5, "test-extractor", "Resize(4x4)"))
        {
            Assert.That((store.Count, store.IsReadOnly), Is.EqualTo((0, false)));
            store.Append(Ids(0, 3), Rows(0, 3, 5));
            Assert.That(ReadAll(store), Is.EqualTo(Rows(0, 3, 5)));
            store.Append(Ids(3, 2), Rows(3, 2, 5));
            // Reading after an append maps the grown file again.
            Assert.That(ReadAll(store), Is.EqualTo(Rows(0, 5, 5)));
            Assert.That(store.ImageIds, Is.EqualTo(Ids(0, 5)));
        }

        using var reopened = FeatureStore.Open(StoreDirectory);
        Assert.That((reopened.Count, reopened.Dimension, reopened.Extractor, reopened.Preprocessing, reopened.IsReadOnly),
            Is.EqualTo((5, 5, "test-extractor", "Resize(4x4)", true)));
        Assert.That(reopened.ImageIds, Is.EqualTo(Ids(0, 5)));
        Assert.That(reopened.TryGetRow("img_0003.jpg", out var row), Is.True);
        Assert.That(row, Is.EqualTo(3));
        var values = new float[5];
        reopened.Read("img_0004.jpg", values);
        Assert.That(values, Is.EqualTo(Rows(4, 1, 5)));
        Assert.That(reopened.TryGetRow("other.jpg", out _), Is.False);
        Assert.Throws<InvalidOperationException>(() => reopened.Append(Ids(9, 1), Rows(9, 1, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => reopened.Read(5, values));
    }

    [Test]
    public void Numpy_reads_the_store_memory_mapped_with_our_values_and_ids()
    {
        PythonReference.Require("numpy");
        const int dimension = 7;
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, dimension, "vgg16-fc7", "p"))
        {
            store.Append(Ids(0, 4), Rows(0, 4, dimension));
            store.Append(["naïve café.jpg"], Rows(4, 1, dimension));
        }

        var dump = scratch.File("numpy.f32");
        using var report = JsonDocument.Parse(PythonReference.Run("features_numpy.py", StoreDirectory, dump));
        var root = report.RootElement;
        Assert.That(root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 5, dimension }));
        Assert.That(root.GetProperty("dtype").GetString(), Is.EqualTo("float32"));
        Assert.That(root.GetProperty("fortran_order").GetBoolean(), Is.False);
        Assert.That(root.GetProperty("is_memmap").GetBoolean(), Is.True);
        Assert.That(root.GetProperty("ids").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(Ids(0, 4).Append("naïve café.jpg")));
        Assert.That(root.GetProperty("index").GetProperty("count").GetInt32(), Is.EqualTo(5));
        Assert.That(root.GetProperty("index").GetProperty("dimension").GetInt32(), Is.EqualTo(dimension));
        Assert.That(Vision.FeatureAssert.ReadFloats(dump), Is.EqualTo(Rows(0, 5, dimension)));
    }

    [Test]
    public void A_store_larger_than_the_view_buffer_is_read_through_several_windows_from_many_threads()
    {
        const int dimension = 300, count = 157;
        // 1.5 rows per 2-row window would not divide the file: 2 rows = 2400 bytes per view, 79 views.
        var options = new FeatureStoreOptions { ViewBytes = 2 * dimension * sizeof(float) + 1000 };
        using (var writer = FeatureStore.OpenOrCreate(StoreDirectory, dimension))
            for (var first = 0; first < count; first += 20)
                writer.Append(Ids(first, Math.Min(20, count - first)), Rows(first, Math.Min(20, count - first), dimension));

        var fileBytes = new FileInfo(Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName)).Length;
        Assert.That(fileBytes, Is.GreaterThan(50 * options.ViewBytes), "the store is far larger than one view");

        using var store = FeatureStore.Open(StoreDirectory, options);
        var expected = Rows(0, count, dimension);
        var order = Enumerable.Range(0, count * 4).Select(i => (i * 7919) % count).ToArray();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = 4 }, row =>
        {
            var values = new float[dimension];
            store.Read(row, values);
            if (!values.AsSpan().SequenceEqual(expected.AsSpan(row * dimension, dimension)))
                throw new AssertionException($"row {row} read back wrong");
        });
        Assert.That(store.MappedViewCount, Is.EqualTo((count + 1) / 2), "each 2-row window mapped once");

        // The batched read of IFeatureSource goes through the same windows.
        var rows = new[] { 156, 0, 77, 78 };
        var batch = new float[rows.Length * dimension];
        ((IFeatureSource)store).Read(rows, batch);
        for (var i = 0; i < rows.Length; i++)
            Assert.That(batch.AsSpan(i * dimension, dimension).ToArray(), Is.EqualTo(expected.AsSpan(rows[i] * dimension, dimension).ToArray()));
    }

    [Test]
    public void A_torn_append_past_the_commit_is_ignored_then_truncated()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 4))
            store.Append(Ids(0, 3), Rows(0, 3, 4));
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        var committedFeatures = File.ReadAllBytes(featuresPath);
        var committedIds = File.ReadAllBytes(idsPath);

        // A process killed mid-append: one and a half rows and a partial id line written, store.json not replaced.
        using (var features = new FileStream(featuresPath, FileMode.Append))
            features.Write(new byte[6 * sizeof(float)].Select((_, i) => (byte)(i * 37)).ToArray());
        File.AppendAllText(idsPath, "img_0003.jpg\nimg_00");

        using (var reader = FeatureStore.Open(StoreDirectory))
        {
            Assert.That(reader.ImageIds, Is.EqualTo(Ids(0, 3)));
            Assert.That(ReadAll(reader), Is.EqualTo(Rows(0, 3, 4)));
        }

        Assert.That(new FileInfo(featuresPath).Length, Is.GreaterThan(committedFeatures.Length), "a reader leaves the files alone");
        using (var writer = FeatureStore.OpenOrCreate(StoreDirectory, 4))
        {
            Assert.That(File.ReadAllBytes(featuresPath), Is.EqualTo(committedFeatures), "the writer truncates the torn rows");
            Assert.That(File.ReadAllBytes(idsPath), Is.EqualTo(committedIds), "and the torn ids");
            writer.Append(Ids(3, 2), Rows(3, 2, 4));
        }

        using var final = FeatureStore.Open(StoreDirectory);
        Assert.That(ReadAll(final), Is.EqualTo(Rows(0, 5, 4)));
        Assert.That(final.ImageIds, Is.EqualTo(Ids(0, 5)));
    }

    [Test]
    public void A_stale_npy_header_after_a_kill_between_commit_and_header_update_is_repaired()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 3))
            store.Append(Ids(0, 2), Rows(0, 2, 3));
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        var header = File.ReadAllBytes(featuresPath)[..128];
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 3))
            store.Append(Ids(2, 2), Rows(2, 2, 3));
        // Put back the header of the previous commit (it said 2 rows).
        using (var features = new FileStream(featuresPath, FileMode.Open))
            features.Write(header);

        using (var reader = FeatureStore.Open(StoreDirectory))
            Assert.That(ReadAll(reader), Is.EqualTo(Rows(0, 4, 3)), "store.json is the truth");
        using (FeatureStore.OpenOrCreate(StoreDirectory, 3)) { }
        Assert.That(System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(featuresPath)[..128]), Does.Contain("'shape': (4, 3)"));
    }

    [Test]
    public void Truncated_features_file_names_the_file()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 4))
            store.Append(Ids(0, 3), Rows(0, 3, 4));
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        using (var features = new FileStream(featuresPath, FileMode.Open))
            features.SetLength(features.Length - 5);

        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(exception.FilePath, Is.EqualTo(featuresPath));
        Assert.That(exception.Message, Does.Contain(featuresPath).And.Contain("truncated").And.Contain("holds 2 complete rows").And.Contain("commits 3"));
        Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 4));
    }

    [Test]
    public void Truncated_ids_file_names_the_file()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 2))
            store.Append(Ids(0, 3), Rows(0, 3, 2));
        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        File.WriteAllText(idsPath, "img_0000.jpg\nimg_0001.jpg\n");

        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(exception.FilePath, Is.EqualTo(idsPath));
        Assert.That(exception.Message, Does.Contain(idsPath).And.Contain("truncated"));
    }

    [Test]
    public void Duplicate_ids_name_the_file_and_both_lines()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 2))
            store.Append(Ids(0, 3), Rows(0, 3, 2));
        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        File.WriteAllText(idsPath, "img_0000.jpg\nimg_0001.jpg\nimg_0000.jpg\n"); // same length, so only the duplicate is wrong

        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(exception.FilePath, Is.EqualTo(idsPath));
        Assert.That(exception.Message, Does.Contain(idsPath).And.Contain("line 3").And.Contain("'img_0000.jpg'").And.Contain("line 1"));
    }

    [Test]
    public void Two_ids_of_one_length_swapped_in_ids_txt_are_refused_naming_the_file()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 2))
            store.Append(Ids(0, 3), Rows(0, 3, 2));
        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        // Same lines, same length, same count: only the binding of rows 0 and 1 to their images changed.
        File.WriteAllText(idsPath, "img_0001.jpg\nimg_0000.jpg\nimg_0002.jpg\n");

        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(exception.FilePath, Is.EqualTo(idsPath));
        Assert.That(exception.Message, Does.StartWith(idsPath).And.Contain("SHA-256").And.Contain("store.json records"));
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 2))!.FilePath, Is.EqualTo(idsPath));
    }

    [Test]
    public void The_index_commits_the_sha256_of_the_committed_ids_across_appends_reopenings_and_torn_tails()
    {
        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        string Recorded() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(StoreDirectory, FeatureStore.IndexFileName))).RootElement.GetProperty("idsSha256").GetString()!;
        string Committed(int count) => Sha256(File.ReadAllBytes(idsPath).AsSpan(0, Ids(0, count).Sum(id => id.Length + 1)));

        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 2))
        {
            Assert.That(Recorded(), Is.EqualTo(Sha256([])), "a new store commits the digest of no ids");
            store.Append(Ids(0, 2), Rows(0, 2, 2));
            Assert.That(Recorded(), Is.EqualTo(Committed(2)));
        }
        File.AppendAllText(idsPath, "img_0002.jpg\nimg_00"); // a torn append: ids written, store.json not replaced
        using (var reader = FeatureStore.Open(StoreDirectory))
            Assert.That(reader.ImageIds, Is.EqualTo(Ids(0, 2)), "the tail is not part of the digest");
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 2))
        {
            store.Append(Ids(2, 3), Rows(2, 3, 2));
            Assert.That(Recorded(), Is.EqualTo(Committed(5)));
        }
        using var final = FeatureStore.Open(StoreDirectory);
        Assert.That(ReadAll(final), Is.EqualTo(Rows(0, 5, 2)));
    }

    // A 300-float row is 1,200 bytes: chunks of the smallest digest size hold 3 rows.
    private const int ChunkedDimension = 300;
    private static readonly FeatureStoreOptions SmallChunks = new() { DigestChunkBytes = FeatureStoreOptions.MinDigestChunkBytes };

    // 10 rows in appends of 4, 1 and 5: chunks of 3 rows, the last partial, and appends that end inside a chunk.
    private void WriteChunkedStore()
    {
        using var store = FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension, "test", "none", SmallChunks);
        store.Append(Ids(0, 4), Rows(0, 4, ChunkedDimension));
        store.Append(Ids(4, 1), Rows(4, 1, ChunkedDimension));
        store.Append(Ids(5, 5), Rows(5, 5, ChunkedDimension));
    }

    private string IndexPath => Path.Combine(StoreDirectory, FeatureStore.IndexFileName);

    private void EditIndex(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var index = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(IndexPath))!.AsObject();
        edit(index);
        File.WriteAllText(IndexPath, index.ToJsonString());
    }

    // What a version-1 writer wrote: no row digests, no digest of the index, and (before that) no ids digest either.
    private void MakeVersion1(bool withIdsDigest) => EditIndex(index =>
    {
        index["version"] = 1;
        foreach (var key in new[] { "chunkRows", "rowsSha256", "sha256" }) index.Remove(key);
        if (!withIdsDigest) index.Remove("idsSha256");
    });

    private void FlipByteOfRow(int row)
    {
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        using var features = new FileStream(featuresPath, FileMode.Open);
        features.Position = 128 + (long)row * ChunkedDimension * sizeof(float) + 17;
        var value = features.ReadByte();
        features.Position--;
        features.WriteByte((byte)(value ^ 0x10));
    }

    [Test]
    public void Hashlib_computes_the_digests_the_index_records_for_each_chunk_of_rows_and_the_ids()
    {
        PythonReference.Require("numpy");
        WriteChunkedStore();
        using var report = JsonDocument.Parse(PythonReference.Run("features_numpy.py", StoreDirectory, scratch.File("numpy.f32")));
        var root = report.RootElement;
        var index = root.GetProperty("index");
        Assert.That((index.GetProperty("version").GetInt32(), index.GetProperty("chunkRows").GetInt32()), Is.EqualTo((2, 3)));
        var recorded = index.GetProperty("rowsSha256").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.That(recorded, Has.Length.EqualTo(4), "10 rows in chunks of 3");
        Assert.That(root.GetProperty("rows_sha256").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(recorded));
        Assert.That(root.GetProperty("ids_sha256").GetString(), Is.EqualTo(index.GetProperty("idsSha256").GetString()));
    }

    [Test]
    public void A_changed_value_in_features_npy_is_refused_when_its_chunk_is_read_and_by_Verify()
    {
        WriteChunkedStore();
        FlipByteOfRow(4); // chunk 1: rows 3 to 5
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        var row = new float[ChunkedDimension];

        using (var store = FeatureStore.Open(StoreDirectory))
        {
            store.Read(0, row);
            Assert.That(row, Is.EqualTo(Rows(0, 1, ChunkedDimension)), "the other chunks read as written");
            store.Read(9, row);
            var refused = Assert.Throws<FeatureStoreException>(() => store.Read(3, row))!;
            Assert.That(refused.FilePath, Is.EqualTo(featuresPath));
            Assert.That(refused.Message, Does.Contain("rows 3 to 5").And.Contain("rowsSha256[1]").And.Contain("SHA-256"));
            Assert.Throws<FeatureStoreException>(() => store.Read(4, row), "the chunk stays refused");
        }

        using (var store = FeatureStore.Open(StoreDirectory))
            Assert.That(Assert.Throws<FeatureStoreException>(store.Verify)!.Message, Does.Contain("rows 3 to 5"));

        // A writer opens (the damage is not in the chunk it extends) and its reads are checked the same way.
        using (var writer = FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension))
            Assert.Throws<FeatureStoreException>(() => writer.Read(5, row));
    }

    [Test]
    public void A_writer_refuses_a_store_whose_last_chunk_changed_rather_than_extend_its_digest_over_it()
    {
        WriteChunkedStore();
        FlipByteOfRow(9); // the last chunk, row 9 alone, which the next append would extend
        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension))!;
        Assert.That(exception.FilePath, Is.EqualTo(Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName)));
        Assert.That(exception.Message, Does.Contain("rows 9 to 9").And.Contain("rowsSha256[3]"));
        // Refused the same way again, not as "open for writing elsewhere": the refused writer released its lock.
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension))!.Message, Does.Contain("rows 9 to 9"));
    }

    [Test]
    public void Reads_between_appends_that_extend_a_chunk_check_it_again_and_read_the_new_rows()
    {
        using var store = FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension, options: SmallChunks);
        for (var first = 0; first < 8; first++)
        {
            store.Append(Ids(first, 1), Rows(first, 1, ChunkedDimension));
            Assert.That(ReadAll(store), Is.EqualTo(Rows(0, first + 1, ChunkedDimension)), $"after row {first}");
        }

        store.Verify();
        using var reader = FeatureStore.Open(StoreDirectory);
        reader.Verify();
        Assert.That(ReadAll(reader), Is.EqualTo(Rows(0, 8, ChunkedDimension)));
    }

    [Test]
    public void Every_digest_of_the_index_is_required_and_an_edited_value_is_refused([Values] FeatureStoreIntegrity integrity)
    {
        var edits = new (string What, Action<System.Text.Json.Nodes.JsonObject> Edit, string Says)[]
        {
            ("no index digest", j => j.Remove("sha256"), "lacks \"sha256\""),
            ("no row digests", j => j.Remove("rowsSha256"), "SHA-256"),
            ("no ids digest", j => j.Remove("idsSha256"), "SHA-256"),
            ("no chunk size", j => j.Remove("chunkRows"), "SHA-256"),
            ("row digests re-cased", j => { j["RowsSha256"] = j["rowsSha256"]!.DeepClone(); j.Remove("rowsSha256"); }, "RowsSha256"),
            ("an edited extractor", j => j["extractor"] = "tset", "store.json was changed or damaged"),
            ("a lower count", j => j["count"] = 9, "store.json was changed or damaged"),
            ("an unknown key", j => j["comment"] = "hello", "comment"),
        };
        foreach (var (what, edit, says) in edits)
        {
            WriteChunkedStore();
            EditIndex(edit);
            var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory, new FeatureStoreOptions { Integrity = integrity }), what)!;
            Assert.That(exception.FilePath, Is.EqualTo(IndexPath), what);
            Assert.That(exception.Message, Does.Contain(says), what);
            Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension, options: new FeatureStoreOptions { Integrity = integrity }), what);
            Directory.Delete(StoreDirectory, recursive: true);
        }
    }

    [Test]
    public void A_version_1_store_is_refused_unless_allowed_and_its_first_writer_records_its_digests([Values] bool withIdsDigest)
    {
        WriteChunkedStore();
        MakeVersion1(withIdsDigest);
        var refused = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(refused.FilePath, Is.EqualTo(IndexPath));
        Assert.That(refused.Message, Does.Contain("version-1").And.Contain("AllowLegacy"));
        Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension));

        var legacy = new FeatureStoreOptions { Integrity = FeatureStoreIntegrity.AllowLegacy };
        using (var reader = FeatureStore.Open(StoreDirectory, legacy))
        {
            Assert.That(reader.IsVerified, Is.False);
            Assert.That(ReadAll(reader), Is.EqualTo(Rows(0, 10, ChunkedDimension)));
            Assert.That(Assert.Throws<FeatureStoreException>(reader.Verify)!.Message, Does.Contain("cannot be verified"));
        }

        using (var writer = FeatureStore.OpenOrCreate(StoreDirectory, ChunkedDimension, options: legacy))
            Assert.That(writer.IsVerified, Is.True);
        using (var reader = FeatureStore.Open(StoreDirectory))
        {
            Assert.That(reader.IsVerified, Is.True, "recorded: it now opens verified by default");
            reader.Verify();
            Assert.That(ReadAll(reader), Is.EqualTo(Rows(0, 10, ChunkedDimension)));
        }

        FlipByteOfRow(2);
        using (var reader = FeatureStore.Open(StoreDirectory, legacy))
            Assert.Throws<FeatureStoreException>(reader.Verify, "once recorded, AllowLegacy checks the digests too");
        File.WriteAllText(Path.Combine(StoreDirectory, FeatureStore.IdsFileName), string.Concat(Ids(0, 10).Reverse().Select(id => id + "\n")));
        Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory, legacy));
    }

    [Test]
    public void A_version_1_index_carrying_version_2_keys_is_refused()
    {
        WriteChunkedStore();
        EditIndex(j => j["version"] = 1);
        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory, new FeatureStoreOptions { Integrity = FeatureStoreIntegrity.AllowLegacy }))!;
        Assert.That(exception.Message, Does.Contain("version-2 key"));
    }

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    [Test]
    public void Appending_an_id_already_stored_or_twice_is_refused_and_changes_nothing()
    {
        using var store = FeatureStore.OpenOrCreate(StoreDirectory, 2);
        store.Append(Ids(0, 2), Rows(0, 2, 2));
        var exception = Assert.Throws<ArgumentException>(() => store.Append(["new.jpg", "img_0001.jpg"], Rows(2, 2, 2)))!;
        Assert.That(exception.Message, Does.Contain("'img_0001.jpg' already has a row"));
        Assert.Throws<ArgumentException>(() => store.Append(["a.jpg", "a.jpg"], Rows(2, 2, 2)));
        Assert.Throws<ArgumentException>(() => store.Append(["line\nbreak"], Rows(2, 1, 2)));
        Assert.Throws<ArgumentException>(() => store.Append(["short.jpg"], Rows(2, 1, 2).AsSpan(0, 1)));
        Assert.That(store.Count, Is.EqualTo(2));
        store.Append(["new.jpg"], Rows(2, 1, 2));
        Assert.That(ReadAll(store), Is.EqualTo(Rows(0, 3, 2)));
    }

    [Test]
    public void Opening_with_another_dimension_or_extractor_names_the_index()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 8, "vgg16-fc7", "Resize(224x224)"))
            store.Append(Ids(0, 1), Rows(0, 1, 8));
        var indexPath = Path.Combine(StoreDirectory, FeatureStore.IndexFileName);

        var dimension = Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 9))!;
        Assert.That((dimension.FilePath, dimension.Reason), Is.EqualTo((indexPath, "the store holds 8-d features but 9-d were asked for")));
        var extractor = Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 8, "resnet50-avgpool"))!;
        Assert.That(extractor.Message, Does.Contain(indexPath).And.Contain("'vgg16-fc7'"));
        var preprocessing = Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 8, "vgg16-fc7", "Resize(256)"))!;
        Assert.That(preprocessing.Message, Does.Contain("Resize(224x224)"));
    }

    [Test]
    public void A_npy_of_another_shape_or_type_names_the_file()
    {
        using (var store = FeatureStore.OpenOrCreate(StoreDirectory, 3))
            store.Append(Ids(0, 1), Rows(0, 1, 3));
        var featuresPath = Path.Combine(StoreDirectory, FeatureStore.FeaturesFileName);
        var bytes = File.ReadAllBytes(featuresPath);
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        File.WriteAllBytes(featuresPath, System.Text.Encoding.Latin1.GetBytes(text.Replace("(1, 3)", "(1, 4)")));
        var columns = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(columns.Message, Does.Contain(featuresPath).And.Contain("4 columns"));

        File.WriteAllBytes(featuresPath, System.Text.Encoding.Latin1.GetBytes(text.Replace("<f4", "<f8")));
        var dtype = Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!;
        Assert.That(dtype.Message, Does.Contain(featuresPath).And.Contain("float32"));

        File.WriteAllBytes(featuresPath, bytes[..40]);
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!.FilePath, Is.EqualTo(featuresPath));
    }

    [Test]
    public void A_folder_without_an_index_is_not_a_store_and_its_data_is_not_overwritten()
    {
        var indexPath = Path.Combine(StoreDirectory, FeatureStore.IndexFileName);
        Directory.CreateDirectory(StoreDirectory);
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!.FilePath, Is.EqualTo(indexPath));

        var idsPath = Path.Combine(StoreDirectory, FeatureStore.IdsFileName);
        File.WriteAllText(idsPath, "somebody's.jpg\n");
        var exception = Assert.Throws<FeatureStoreException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 4))!;
        Assert.That(exception.FilePath, Is.EqualTo(idsPath));
        Assert.That(File.ReadAllText(idsPath), Is.EqualTo("somebody's.jpg\n"));

        File.WriteAllText(indexPath, "{\"format\": \"something else\"}");
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!.Message, Does.Contain(indexPath));
        File.WriteAllText(indexPath, "{ not json");
        Assert.That(Assert.Throws<FeatureStoreException>(() => FeatureStore.Open(StoreDirectory))!.Message, Does.Contain(indexPath));
    }

    [Test]
    public void Only_one_writer_at_a_time()
    {
        using var first = FeatureStore.OpenOrCreate(StoreDirectory, 2);
        var exception = Assert.Throws<IOException>(() => FeatureStore.OpenOrCreate(StoreDirectory, 2))!;
        Assert.That(exception.Message, Does.Contain("open for writing elsewhere"));
        using var reader = FeatureStore.Open(StoreDirectory);
        Assert.That(reader.Count, Is.EqualTo(0));
    }
}

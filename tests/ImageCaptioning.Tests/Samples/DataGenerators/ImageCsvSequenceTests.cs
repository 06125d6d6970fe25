using DataGenerators;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Vision;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples.DataGenerators;

/// <summary>The DataGenerators sample's CSV-of-images <c>Sequence</c>, read through the library's <c>CsvReader</c>.</summary>

[TestFixture]
public sealed class ImageCsvSequenceTests
{
    private static readonly string[] Names = ["photo_q90.jpg", "small_97x61.png", "gray_q90.jpg", "rgba_257x181.png", "tall_50x700.png"];

    private TempDirectory scratch = null!;

    [SetUp]
    public void CreateScratch()
    {
        scratch = new TempDirectory();
        Directory.CreateDirectory(scratch.File("images"));
        foreach (var name in Names)
            File.Copy(ReferenceImages.Get()[name].Path, scratch.File(Path.Combine("images", name)));
    }

    [TearDown]
    public void DeleteScratch() => scratch.Dispose();

    private string WriteCsv(string content)
    {
        var path = scratch.File("boxes.csv");
        File.WriteAllText(path, content);
        return path;
    }

    private string BoxesCsv() => WriteCsv(
        "filename,x,y,h,w\r\n" +
        string.Concat(Names.Select((n, i) => $"\"images/{n}\",{i},{i * 10}.5,{i + 100},{-i}e1\r\n")));

    [Test]
    public void Batches_hold_the_transformed_images_and_label_rows_in_csv_order()
    {
        var sequence = ImageCsvSequence.Load(BoxesCsv(), new ImageCsvSequenceOptions { BatchSize = 2 });
        Assert.That((sequence.Count, sequence.RowCount), Is.EqualTo((3, 5)));
        Assert.That(sequence.LabelColumns, Is.EqualTo(new[] { "x", "y", "h", "w" }));

        var transform = new ImageTransform(ImageTransformOptions.Recipe224);
        var row = 0;
        for (var b = 0; b < sequence.Count; b++)
        {
            using var batch = sequence[b];
            Assert.That(batch.Images.shape, Is.EqualTo(new long[] { batch.Count, 3, 224, 224 }));
            Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { batch.Count, 4 }));
            var labels = batch.Labels.ToArray<float>();
            for (var i = 0; i < batch.Count; i++, row++)
            {
                Assert.That(labels.AsSpan(i * 4, 4).ToArray(), Is.EqualTo(new[] { row, row * 10 + 0.5f, row + 100, -row * 10f }));
                using var image = ImageDecoder.Decode(scratch.File(Path.Combine("images", Names[row])));
                using var expected = transform.Apply(image);
                using var actual = batch.Images.select(0, i);
                Assert.That(actual.ToArray<float>(), Is.EqualTo(expected.ToArray<float>()));
            }
        }

        Assert.That(row, Is.EqualTo(5), "the last batch is partial");
    }

    [Test]
    public void Shuffle_is_seeded_keeps_rows_together_and_changes_on_epoch_end()
    {
        var options = new ImageCsvSequenceOptions { BatchSize = 5, Shuffle = true, Seed = 42, FileColumn = "filename", LabelColumns = ["h", "x"] };
        var sequence = ImageCsvSequence.Load(BoxesCsv(), options);
        var again = ImageCsvSequence.Load(BoxesCsv(), options);
        Assert.That(again.CurrentOrder, Is.EqualTo(sequence.CurrentOrder), "same seed, same order");

        var orders = new List<string[]>();
        for (var epoch = 0; epoch < 4; epoch++)
        {
            using var batch = sequence[0];
            var labels = batch.Labels.ToArray<float>();
            for (var i = 0; i < batch.Count; i++)
            {
                var row = Array.IndexOf(Names, Path.GetFileName(batch.Paths[i]));
                Assert.That(labels.AsSpan(i * 2, 2).ToArray(), Is.EqualTo(new[] { row + 100f, row }), "labels follow their image");
            }

            orders.Add(batch.Paths.ToArray());
            sequence.OnEpochEnd();
        }

        Assert.That(orders.Select(o => string.Join("|", o)).Distinct().Count(), Is.GreaterThan(1), "epochs are reshuffled");
        Assert.That(orders.All(o => o.Order().SequenceEqual(orders[0].Order())), Is.True, "every epoch holds every row once");
    }

    [Test]
    public void Without_shuffle_epoch_end_keeps_the_order()
    {
        var sequence = ImageCsvSequence.Load(BoxesCsv());
        var before = sequence.CurrentOrder;
        sequence.OnEpochEnd();
        Assert.That(sequence.CurrentOrder, Is.EqualTo(before));
        Assert.That(before.Select(Path.GetFileName), Is.EqualTo(Names));
    }

    [Test]
    public void Images_are_only_read_when_their_batch_is_requested()
    {
        var csv = WriteCsv("file,a\nimages/photo_q90.jpg,1\nimages/not-there-yet.png,2\n");
        var sequence = ImageCsvSequence.Load(csv, new ImageCsvSequenceOptions { BatchSize = 1 });
        using (sequence[0]) { }
        Assert.Throws<FileNotFoundException>(() => sequence[1].Dispose());
        File.Copy(scratch.File("images/small_97x61.png"), scratch.File("images/not-there-yet.png"));
        using var late = sequence[1];
        Assert.That(late.Count, Is.EqualTo(1));
    }

    [Test]
    public void Corrupt_image_in_a_batch_names_its_path_and_leaks_nothing()
    {
        var corrupt = scratch.File("images/broken.jpg");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(scratch.File("images/photo_q90.jpg"))[..5000]);
        var sequence = ImageCsvSequence.Load(WriteCsv("f,x\nimages/gray_q90.jpg,1\nimages/broken.jpg,2\n"));
        var live = Tensor.TotalCount;
        var exception = Assert.Throws<ImageDecodeException>(() => sequence[0].Dispose())!;
        Assert.That(exception.SourceName, Is.EqualTo(corrupt));
        Assert.That(Tensor.TotalCount, Is.EqualTo(live));
    }

    [TestCase("f,x\nimages/a.png,abc\n", "line 2, column 'x': 'abc' is not a finite number")]
    [TestCase("f,x\nimages/a.png,1\nimages/b.png\n", "line 3: 1 fields, but the header has 2")]
    [TestCase("f,x\n\"\",1\n", "line 2: the file name in column 'f' is empty")]
    [TestCase("f,x\n\"images/a.png,1\n", "quoted field is not closed")]
    [TestCase("f,x\n", "a header but no rows")]
    [TestCase("", "the file is empty")]
    public void Malformed_csv_names_the_file_and_line(string content, string expected)
    {
        var csv = WriteCsv(content);
        var exception = Assert.Throws<InvalidDataException>(() => ImageCsvSequence.Load(csv))!;
        Assert.That(exception.Message, Does.Contain(csv).And.Contain(expected));
    }

    [Test]
    public void Unknown_label_column_lists_the_header()
    {
        var csv = BoxesCsv();
        var exception = Assert.Throws<InvalidDataException>(() =>
            ImageCsvSequence.Load(csv, new ImageCsvSequenceOptions { LabelColumns = ["x", "width"] }))!;
        Assert.That(exception.Message, Does.Contain("'width'").And.Contain("filename, x, y, h, w"));
    }

    [Test]
    public void Quoted_header_fields_may_hold_quotes()
    {
        var csv = WriteCsv("name,\"the \"\"label\"\"\"\n\"images/photo_q90.jpg\",\"1.5\"\n");
        var sequence = ImageCsvSequence.Load(csv);
        Assert.That(sequence.LabelColumns, Is.EqualTo(new[] { "the \"label\"" }));
    }

    [Test]
    public void It_is_a_generic_Sequence_enumeration_ends_the_epoch_and_drop_last_applies()
    {
        var options = new ImageCsvSequenceOptions { BatchSize = 2, Shuffle = true, Seed = 3, DropLast = true };
        ImageCaptioning.Data.Sequence<LabeledImageBatch> sequence = ImageCsvSequence.Load(BoxesCsv(), options);
        Assert.That(sequence.Count, Is.EqualTo(2), "5 rows in batches of 2, the partial batch dropped");
        var seen = new List<string>();
        foreach (var batch in sequence)
            using (batch)
                seen.AddRange(batch.Paths);
        Assert.That(sequence.Epoch, Is.EqualTo(1), "a full enumeration ends the epoch");
        Assert.That(seen, Has.Count.EqualTo(4).And.Unique);
        Assert.That(new ImageCsvSequenceOptions().Shuffle, Is.False, "the CSV order is the default");
    }

    [Test]
    public void The_decoder_limit_follows_the_decode_threads()
    {
        Assert.That(new ImageCsvSequenceOptions { DecodeThreads = 3 }.Decoder, Is.EqualTo(ImageDecoderOptions.ForConcurrentDecoding(3)));
    }
}

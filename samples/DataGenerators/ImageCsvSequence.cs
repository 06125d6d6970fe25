using System.Globalization;
using ImageCaptioning.Data;
using ImageCaptioning.IO;
using ImageCaptioning.Vision;

namespace DataGenerators;

/// <summary>
/// The recipe's second Keras <c>Sequence</c>: rows of a CSV name an image file and carry numeric labels (for
/// example a box x, y, h, w). Batch <c>i</c> (the indexer, Keras <c>__getitem__</c>) loads its images only when
/// asked, and returns them as <c>[B, 3, H, W]</c> with the labels as <c>[B, k]</c>. Epochs, shuffling
/// (<see cref="Sequence{TBatch}.OnEpochEnd"/>), enumeration and prefetch come from <see cref="Sequence{TBatch}"/>.
/// The CSV is read and validated once, at <see cref="Load"/>.
/// </summary>
public sealed class ImageCsvSequence : Sequence<LabeledImageBatch>
{
    private readonly string[] paths;
    private readonly float[] labels;
    private readonly ImageTransform transform;
    private int[] order;

    private ImageCsvSequence(string source, string[] paths, float[] labels, IReadOnlyList<string> labelColumns, ImageCsvSequenceOptions options)
        : base(options)
    {
        Source = source;
        this.paths = paths;
        this.labels = labels;
        LabelColumns = labelColumns;
        transform = new ImageTransform(options.Transform);
        order = Enumerable.Range(0, paths.Length).ToArray();
    }

    /// <summary>Reads and validates the CSV at <paramref name="csvPath"/>; images are not touched until a batch is requested.</summary>
    /// <exception cref="InvalidDataException">The CSV lacks a column, has a ragged row, an empty file name or a non-numeric label; the message names the file, line and column.</exception>
    public static ImageCsvSequence Load(string csvPath, ImageCsvSequenceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        options ??= new ImageCsvSequenceOptions();
        if (options.Transform.FixedOutputSize is null)
            throw new ArgumentException("the transform must give a fixed output size (an exact Resize or a CenterCrop) to batch images", nameof(options));
        var baseDirectory = options.ImageDirectory ?? Path.GetDirectoryName(Path.GetFullPath(csvPath))!;

        using var records = new CsvReader(File.ReadAllText(csvPath), options.Delimiter).ReadRecords().GetEnumerator();
        {
            if (!Next(records, csvPath)) throw new InvalidDataException($"{csvPath}: the file is empty; a header row naming the columns is required");
            var header = records.Current.Fields.Select(f => f.Trim()).ToArray();
            var fileIndex = options.FileColumn is null ? 0 : ColumnIndex(header, options.FileColumn, csvPath);
            var labelNames = options.LabelColumns ?? header.Where((_, i) => i != fileIndex).ToArray();
            var labelIndexes = labelNames.Select(name => ColumnIndex(header, name, csvPath)).ToArray();

            var paths = new List<string>();
            var labels = new List<float>();
            while (Next(records, csvPath))
            {
                var (line, fields) = records.Current;
                if (fields.Length != header.Length)
                    throw new InvalidDataException($"{csvPath} line {line}: {fields.Length} fields, but the header has {header.Length}");
                var fileName = fields[fileIndex].Trim();
                if (fileName.Length == 0)
                    throw new InvalidDataException($"{csvPath} line {line}: the file name in column '{header[fileIndex]}' is empty");
                paths.Add(Path.Combine(baseDirectory, fileName));
                foreach (var index in labelIndexes)
                {
                    if (!float.TryParse(fields[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
                        throw new InvalidDataException($"{csvPath} line {line}, column '{header[index]}': '{fields[index]}' is not a finite number");
                    labels.Add(value);
                }
            }

            if (paths.Count == 0) throw new InvalidDataException($"{csvPath}: the file has a header but no rows");
            return new ImageCsvSequence(csvPath, paths.ToArray(), labels.ToArray(), Array.AsReadOnly(labelNames.ToArray()), options);
        }
    }

    /// <summary>The CSV file.</summary>
    public string Source { get; }

    /// <summary>The settings.</summary>
    public new ImageCsvSequenceOptions Options => (ImageCsvSequenceOptions)base.Options;

    /// <summary>Names of the label columns, in the order of the label tensor's columns.</summary>
    public IReadOnlyList<string> LabelColumns { get; }

    /// <summary>Number of rows (images).</summary>
    public int RowCount => paths.Length;

    /// <summary>Number of batches per epoch (Keras <c>__len__</c>): rows / batch size, rounded up (down with <c>DropLast</c>).</summary>
    public override int Count => BatchCountFor(paths.Length);

    /// <summary>The image files in the current epoch's order.</summary>
    public IReadOnlyList<string> CurrentOrder => Array.AsReadOnly(OrderFor(Epoch).Select(r => paths[r]).ToArray());

    /// <summary>
    /// Batch <paramref name="index"/> of the current epoch order: its images are read, decoded and transformed now.
    /// The caller owns the returned tensors.
    /// </summary>
    /// <exception cref="ImageDecodeException">An image of the batch is corrupt or unsupported (the message names it).</exception>
    protected override LabeledImageBatch GetBatch(int index)
    {
        var start = index * Options.BatchSize;
        var rows = Volatile.Read(ref order).AsSpan(start, Math.Min(Options.BatchSize, paths.Length - start)).ToArray();
        var batchPaths = rows.Select(r => paths[r]).ToArray();

        var images = new RgbImage?[rows.Length];
        var failures = new Exception?[rows.Length];
        try
        {
            Parallel.For(0, rows.Length, new ParallelOptions { MaxDegreeOfParallelism = Options.DecodeThreads }, i =>
            {
                try { images[i] = ImageDecoder.Decode(batchPaths[i], Options.Decoder); }
                catch (Exception exception) { failures[i] = exception; }
            });
            // Report the batch's first failing image, in row order, with its own exception type and path.
            if (Array.Find(failures, f => f is not null) is { } failure)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);

            var k = LabelColumns.Count;
            var labelRows = new float[rows.Length * k];
            for (var i = 0; i < rows.Length; i++)
                labels.AsSpan(rows[i] * k, k).CopyTo(labelRows.AsSpan(i * k, k));

            using var scope = torch.NewDisposeScope();
            var imageTensor = transform.Apply(images!, Options.Device);
            var labelTensor = TensorSpan.Create(labelRows, [rows.Length, k], Options.Device);
            return new LabeledImageBatch(imageTensor.MoveToOuterDisposeScope(), labelTensor.MoveToOuterDisposeScope(), batchPaths);
        }
        finally
        {
            foreach (var image in images) image?.Dispose();
        }
    }

    /// <inheritdoc />
    protected override void PrepareEpoch(int epoch) => Volatile.Write(ref order, OrderFor(epoch));

    /// <summary>The row order of <paramref name="epoch"/>: CSV order, or a shuffle that depends only on the seed and the epoch.</summary>
    private int[] OrderFor(int epoch)
    {
        var rows = Enumerable.Range(0, paths.Length).ToArray();
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(rows);
        return rows;
    }

    private static bool Next(IEnumerator<(int Line, string[] Fields)> records, string csvPath)
    {
        try
        {
            return records.MoveNext();
        }
        catch (CsvFormatException exception)
        {
            throw new InvalidDataException($"{csvPath}: {exception.Message}", exception);
        }
    }

    private static int ColumnIndex(string[] header, string name, string csvPath)
    {
        var index = Array.IndexOf(header, name);
        if (index < 0)
            throw new InvalidDataException($"{csvPath}: no column '{name}' in the header (columns: {string.Join(", ", header)})");
        return index;
    }
}

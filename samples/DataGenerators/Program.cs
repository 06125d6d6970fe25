// The generic batch generators of ImageCaptioning.Data, outside captioning. The Sequence subclasses are this
// sample's own code (ArraySequence, WindowSequence, ImageCsvSequence), written on the library's Sequence<T>:
//   1. a Keras-style Sequence over two aligned arrays (letters a..z with their capitals), reshuffled every epoch;
//   2. a custom Sequence<T> subclass (sliding windows over a time series);
//   3. prefetching: batches built ahead on worker threads, delivered in order;
//   4. a CSV-of-images Sequence (ImageCsvSequence, reading the CSV with the library's CsvReader) over JPEG files and
//      box labels this sample writes itself (with ImageCaptioning.Synthetic).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DataGenerators;
using ImageCaptioning.Data;
using ImageCaptioning.Samples;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;

var output = new Option<string?>("--output", "Keep the CSV and images of example 4 in this folder. Default: a temporary folder, deleted at the end.");
var command = new RootCommand("Runs the generic batch-generator examples and prints their batches.") { output };
command.SetHandler(folder =>
{
    Letters();
    Windows();
    Prefetching();
    if (folder is not null)
    {
        CsvOfImages(Path.GetFullPath(folder));
        return;
    }
    var temporary = Path.Combine(Path.GetTempPath(), "data-generators-" + Guid.NewGuid().ToString("N")[..8]);
    try { CsvOfImages(temporary); }
    finally { Directory.Delete(temporary, recursive: true); }
}, output);
return await BadInput.RunAsync(command, args);

static void Letters()
{
    Console.WriteLine("1. Letters: a Keras-style Sequence over x = a..z and y = A..Z, batch size 3, shuffled (seed 42)");
    var x = Enumerable.Range('a', 26).Select(c => (char)c).ToArray();
    var y = x.Select(char.ToUpperInvariant).ToArray();
    var letters = new ArraySequence<char, char>(x, y, new SequenceOptions { BatchSize = 3, Shuffle = true, Seed = 42 });
    Console.WriteLine($"   {letters.Count} batches per epoch (len(sequence) in Keras); the last one holds {x.Length % 3} letters");
    for (var epoch = 0; epoch < 2; epoch++)
    {
        Console.WriteLine($"   epoch {letters.Epoch}");
        // Random access, as Keras calls __getitem__; the same index gives the same batch until the epoch ends.
        for (var i = 0; i < letters.Count; i++)
        {
            var batch = letters[i];
            Console.WriteLine($"     batch {i}: x = [{string.Join(", ", batch.X)}]  y = [{string.Join(", ", batch.Y)}]");
        }
        letters.OnEpochEnd();
    }
    Console.WriteLine();
}

static void Windows()
{
    Console.WriteLine("2. A custom Sequence<T>: windows of 4 values of a series, each with the value that follows (batch size 5, shuffled)");
    var series = Enumerable.Range(0, 20).Select(t => Math.Round(10 + (5 * Math.Sin(t / 3.0)), 1)).ToArray();
    var windows = new WindowSequence(series, length: 4, new SequenceOptions { BatchSize = 5, Shuffle = true, Seed = 7 });
    Console.WriteLine($"   series: {string.Join(" ", series.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}");
    // Enumerating a Sequence yields one epoch, then moves to the next (reshuffled) one.
    foreach (var (batch, i) in windows.Select((b, i) => (b, i)))
        Console.WriteLine($"   batch {i}: starts [{string.Join(", ", batch.Starts)}]; first window " +
            $"[{string.Join(", ", batch.Windows[0].Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}] -> {batch.Next[0].ToString("F1", CultureInfo.InvariantCulture)}");
    Console.WriteLine($"   now at epoch {windows.Epoch}");
    Console.WriteLine();
}

static void Prefetching()
{
    Console.WriteLine("3. Prefetch: the windows again, each batch taking 25 ms to build (as if read from disk)");
    var series = Enumerable.Range(0, 100).Select(t => (double)t).ToArray();
    var options = new SequenceOptions { BatchSize = 8, Shuffle = true, Seed = 3 };
    var work = TimeSpan.FromMilliseconds(25);

    var clock = Stopwatch.StartNew();
    var inline = new WindowSequence(series, 4, options, work).Select(b => b.Starts).ToList();
    var inlineTime = clock.Elapsed;

    clock.Restart();
    var prefetch = new PrefetchOptions { Workers = 3, MaxQueueSize = 6 };
    var ahead = new WindowSequence(series, 4, options, work).Prefetch(prefetch).Select(b => b.Starts).ToList();
    var aheadTime = clock.Elapsed;

    var same = inline.Count == ahead.Count && inline.Zip(ahead).All(p => p.First.SequenceEqual(p.Second));
    Console.WriteLine($"   {inline.Count} batches one after another: {inlineTime.TotalMilliseconds:F0} ms");
    Console.WriteLine($"   {ahead.Count} batches with {prefetch.Workers} workers, queue of {prefetch.MaxQueueSize}: {aheadTime.TotalMilliseconds:F0} ms");
    Console.WriteLine($"   same batches in the same order: {same}");
    Console.WriteLine();
}

static void CsvOfImages(string folder)
{
    Console.WriteLine("4. A CSV-of-images Sequence: rows name a JPEG file and its box (x, y, h, w); batch i decodes only its own images");
    var csv = BoxDataset.Write(folder, imageCount: 10, imageSize: 64);
    Console.WriteLine($"   wrote {csv} and 10 JPEG files under {Path.Combine(folder, "images")}");
    var sequence = ImageCsvSequence.Load(csv, new ImageCsvSequenceOptions
    {
        BatchSize = 4,
        Shuffle = true,
        Seed = 5,
        FileColumn = "file",
        LabelColumns = ["x", "y", "h", "w"],
        Transform = new ImageTransformOptions { Resize = ImageResize.To(64, 64) },
        DecodeThreads = 2,
    });
    Console.WriteLine($"   {sequence.RowCount} rows, label columns [{string.Join(", ", sequence.LabelColumns)}], {sequence.Count} batches per epoch");
    for (var epoch = 0; epoch < 2; epoch++)
    {
        Console.WriteLine($"   epoch {sequence.Epoch}");
        foreach (var batch in sequence.Prefetch(new PrefetchOptions { Workers = 2, MaxQueueSize = 2 }))
        {
            using (batch)
            {
                var labels = batch.Labels.ToArray<float>();
                Console.WriteLine($"     images [{string.Join(", ", batch.Images.shape)}] {batch.Images.dtype}, labels [{string.Join(", ", batch.Labels.shape)}]; " +
                    $"{Path.GetFileName(batch.Paths[0])} box ({string.Join(", ", labels.Take(4).Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))})");
            }
        }
    }
}

using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// A trained captioner: captions image files, evaluates a split (BLEU-1..4, CIDEr-D), writes an HTML report, and
/// saves to a folder that <see cref="Load"/> restores.
/// </summary>
public sealed class Captioner : IDisposable
{
    private const int EvaluationBatch = 128;
    private readonly CaptionModelBundle bundle;
    private readonly IFeatureExtractor? extractor;
    private readonly bool ownsExtractor;
    private readonly FeatureStore? store;
    private readonly CaptionSplit? split;
    private readonly string? imageDirectory;
    private readonly CaptionerSettings settings;
    private readonly ILogger logger;

    internal Captioner(CaptionModelBundle bundle, IFeatureExtractor? extractor, bool ownsExtractor, FeatureStore? store, CaptionSplit? split,
        string? imageDirectory, TrainingResult? training, CaptionerSettings settings, ILoggerFactory? loggerFactory)
    {
        (this.bundle, this.extractor, this.ownsExtractor, this.store, this.split, this.imageDirectory, Training, this.settings) =
            (bundle, extractor, ownsExtractor, store, split, imageDirectory, training, settings);
        logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ImageCaptioning.Pipeline");
    }

    /// <summary>The training history, for a captioner that was just trained (null after <see cref="Load"/>).</summary>
    public TrainingResult? Training { get; }

    /// <summary>The model, its tokenizer and default decoding.</summary>
    public CaptionModelBundle Bundle => bundle;

    /// <summary>Image ids of a split (empty after <see cref="Load"/>, which keeps no dataset).</summary>
    public IReadOnlyList<string> ImageIds(SplitPart part) => Corpus(part)?.ImageIds ?? [];

    /// <summary>The file of an image of the training data, or null after <see cref="Load"/>.</summary>
    public string? ImagePath(string imageId) => imageDirectory is null ? null : Path.Combine(imageDirectory, imageId);

    /// <summary>Captions one image file.</summary>
    public string Caption(string imagePath, DecodingOptions? options = null) => Caption([imagePath], options)[0];

    /// <summary>Captions image files in batches, in order.</summary>
    /// <exception cref="IOException">A file cannot be read or decoded (<see cref="ImageDecodeException"/>); the message names it.</exception>
    public IReadOnlyList<string> Caption(IReadOnlyList<string> imagePaths, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var captions = new List<string>(imagePaths.Count);
        foreach (var (_, batch) in CaptionBatches(imagePaths, options)) captions.AddRange(batch);
        return captions;
    }

    /// <summary>
    /// Captions image files in batches, in order, going on past the files that cannot be read or decoded: result
    /// <c>i</c> holds the caption of <paramref name="imagePaths"/>[i], or the exception that names the file and says why.
    /// </summary>
    public IReadOnlyList<CaptionAttempt> TryCaption(IReadOnlyList<string> imagePaths, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var results = new CaptionAttempt[imagePaths.Count];
        var batchSize = extractor?.Options.BatchSize ?? 1;
        var start = 0;
        while (start < results.Length)
        {
            var next = start;
            try
            {
                foreach (var (first, captions) in CaptionBatches(imagePaths.Skip(start).ToArray(), options))
                {
                    for (var i = 0; i < captions.Count; i++) results[start + first + i] = new CaptionAttempt(imagePaths[start + first + i], captions[i], null);
                    next = start + first + captions.Count;
                }
                break;
            }
            catch (Exception e) when (IsUnreadable(e))
            {
                // The batch at `next` holds the file that failed (the batches before it are kept): caption that batch
                // one image at a time, to tell the failing file from its readable neighbours, then batch again after it.
                var end = Math.Min(results.Length, next + batchSize);
                for (start = next; start < end; start++)
                {
                    var path = imagePaths[start];
                    try
                    {
                        results[start] = new CaptionAttempt(path, CaptionBatches([path], options).Single().Captions[0], null);
                    }
                    catch (Exception single) when (IsUnreadable(single))
                    {
                        results[start++] = new CaptionAttempt(path, null, single);
                        break;
                    }
                }
            }
        }
        return results;

        static bool IsUnreadable(Exception e) => e is IOException or UnauthorizedAccessException;
    }

    private IEnumerable<(int Start, IReadOnlyList<string> Captions)> CaptionBatches(IReadOnlyList<string> imagePaths, DecodingOptions? options)
    {
        var source = extractor ?? throw new InvalidOperationException("this captioner has no feature extractor: pass one to Captioner.Load");
        foreach (var batch in source.ExtractBatches(imagePaths))
        {
            // Captioned before the yield, so the batch's dispose scope is closed while the caller holds the captions.
            var captions = Caption(batch, options);
            yield return (batch.StartIndex, captions);
        }
    }

    /// <summary>Captions one decoded image (the caller keeps it).</summary>
    public string Caption(RgbImage image, DecodingOptions? options = null) => Caption([image], options)[0];

    /// <summary>Captions decoded images in order (the caller keeps them).</summary>
    public IReadOnlyList<string> Caption(IReadOnlyList<RgbImage> images, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var source = extractor ?? throw new InvalidOperationException("this captioner has no feature extractor: pass one to Captioner.Load");
        return Caption(source.Extract(images), options);
    }

    /// <summary>
    /// Captions one image given as raw pixels (<paramref name="height"/> rows <paramref name="stride"/> bytes apart of
    /// <paramref name="width"/> pixels in <paramref name="format"/>), as ImageSharp, System.Drawing, OpenCvSharp or
    /// SkiaSharp hold them.
    /// </summary>
    public string Caption(ReadOnlySpan<byte> pixels, int width, int height, int stride, RawPixelFormat format, DecodingOptions? options = null)
    {
        using var image = RgbImage.FromPixels(pixels, width, height, stride, format);
        return Caption(image, options);
    }

    /// <summary>
    /// Captions decoded images in order (the caller keeps them), each with its log-probability, whether it ended
    /// within the length limit and, for a model that attends over a grid, each word's attention: what a service
    /// returns or a page draws. The images go through the feature extractor and the decoder as one batch, so a
    /// caller that gathers images captions them in one forward pass.
    /// </summary>
    /// <exception cref="InvalidOperationException">This captioner has no feature extractor.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled between extraction batches.</exception>
    public IReadOnlyList<ScoredCaption> CaptionScored(IReadOnlyList<RgbImage> images, DecodingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var source = extractor ?? throw new InvalidOperationException("this captioner has no feature extractor: pass one to Captioner.Load");
        if (images.Count == 0) return [];
        var decoded = Decode(source.Extract(images, cancellationToken), options);
        var grid = bundle.Model.AttentionGrid;
        var results = new ScoredCaption[decoded.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var caption = decoded[i];
            CaptionAttention? attention = null;
            if (grid is { } cells && caption.Attention.Count == caption.Tokens.Count)
                attention = new CaptionAttention([.. caption.Tokens.Select(token => bundle.Vocabulary.Decode([token]))], cells.Rows, cells.Columns, caption.Attention);
            results[i] = new ScoredCaption(bundle.Vocabulary.Decode(caption.Tokens), caption.LogProbability, caption.Finished, attention);
        }
        return results;
    }

    private IReadOnlyList<string> Caption(ExtractedFeatures batch, DecodingOptions? options) =>
        [.. Decode(batch, options).Select(caption => bundle.Vocabulary.Decode(caption.Tokens))];

    private IReadOnlyList<DecodedCaption> Decode(ExtractedFeatures batch, DecodingOptions? options)
    {
        using var scope = torch.NewDisposeScope();
        var features = TensorSpan.Create(batch.Values.Span, [batch.Count, batch.Dimension], DeviceOfModel());
        if (settings.ZeroImageFeatures) features.zero_();
        return bundle.CreateDecoder().Decode(features, options ?? bundle.Decoding);
    }

    /// <summary>
    /// Captions every image of a split from the cached features and scores them against their references:
    /// BLEU-1..4 (NLTK's corpus_bleu) and CIDEr-D, with per-image results.
    /// </summary>
    public CaptionEvaluationResult Evaluate(SplitPart part = SplitPart.Test, DecodingOptions? options = null)
    {
        var corpus = Corpus(part) ?? throw new InvalidOperationException("a loaded captioner keeps no dataset: evaluate right after training, or caption files with Caption(...)");
        if (corpus.ImageIds.Count == 0) throw new InvalidOperationException($"the {part} split is empty");
        var ids = corpus.ImageIds;
        var hypotheses = DecodeCached(ids, options).Select(caption => bundle.Vocabulary.Decode(caption.Tokens)).ToList();
        var marks = new[] { settings.Cleaning.StartMark, settings.Cleaning.EndMark }.OfType<string>().ToArray();
        var items = ids.Select((id, i) => (id, hypotheses[i], (IReadOnlyList<string>)corpus[id].Select(c => WithoutMarks(c, marks)).ToList()));
        var result = CaptionMetrics.Evaluate(items, new CaptionEvaluationOptions { Tokenizer = new EvaluationTokenizerOptions { SequenceMarks = marks } });
        logger.LogInformation("{Part}: BLEU-1 {B1:F3} BLEU-2 {B2:F3} BLEU-3 {B3:F3} BLEU-4 {B4:F3} CIDEr-D {Cider:F3} on {Count} images",
            part, result.Bleu.Bleu1, result.Bleu.Bleu2, result.Bleu.Bleu3, result.Bleu.Bleu4, result.CiderD, ids.Count);
        return result;
    }

    /// <summary>
    /// An HTML page with each image beside its generated and reference captions (images linked, not copied); for a
    /// model that attends over a grid, a strip under each caption shows each word's attention over the image.
    /// </summary>
    public void WriteReport(string path, CaptionEvaluationResult result, int maxImages = 60, string title = "Caption report")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(result);
        var attention = new Dictionary<string, CaptionAttention>(StringComparer.Ordinal);
        if (bundle.Model.AttentionGrid is { } grid && store is not null)
        {
            var ids = result.Images.Take(maxImages).Select(i => i.ImageId).Where(id => store.TryGetRow(id, out _)).ToList();
            var captions = DecodeCached(ids, options: null);
            for (var i = 0; i < ids.Count; i++)
            {
                var words = captions[i].Tokens.Select(token => bundle.Vocabulary.Decode([token])).ToArray();
                attention[ids[i]] = new CaptionAttention(words, grid.Rows, grid.Columns, captions[i].Attention);
            }
        }
        HtmlReport.Write(path, title, result, maxImages, id => ImagePath(id), id => attention.GetValueOrDefault(id));
    }

    // Decodes images of the feature cache (zeroed for a zero-feature captioner), in order, batch by batch.
    private List<DecodedCaption> DecodeCached(IReadOnlyList<string> ids, DecodingOptions? options)
    {
        var features = store ?? throw new InvalidOperationException("no feature store");
        var captions = new List<DecodedCaption>(ids.Count);
        var buffer = new float[EvaluationBatch * features.Dimension];
        var rows = new int[EvaluationBatch];
        for (var start = 0; start < ids.Count; start += EvaluationBatch)
        {
            var count = Math.Min(EvaluationBatch, ids.Count - start);
            for (var i = 0; i < count; i++)
                if (!features.TryGetRow(ids[start + i], out rows[i])) throw new KeyNotFoundException($"image '{ids[start + i]}' has no cached features");
            var values = buffer.AsSpan(0, count * features.Dimension);
            if (settings.ZeroImageFeatures) values.Clear();
            else ((IFeatureSource)features).Read(rows.AsSpan(0, count), values);
            using var scope = torch.NewDisposeScope();
            captions.AddRange(bundle.CreateDecoder().Decode(TensorSpan.Create((ReadOnlySpan<float>)values, [count, features.Dimension], DeviceOfModel()), options ?? bundle.Decoding));
        }
        return captions;
    }

    /// <summary>
    /// Saves the model, tokenizer, decoding defaults, how to rebuild the feature extractor and the caption cleaning to
    /// one folder with one configuration file, written once: the files go into a temporary sibling folder which then
    /// replaces <paramref name="folder"/>, so a reader never sees a mix of old and new files. An existing folder is
    /// replaced only when it is empty or a saved captioner or bundle.
    /// </summary>
    /// <exception cref="IOException">The folder holds something else, or a write failed.</exception>
    public void Save(string folder) => CaptionerFolder.Save(folder, bundle, settings);

    /// <summary>
    /// Restores a saved captioner. The feature extractor is rebuilt as it was trained (same network and weights) unless
    /// <paramref name="extractor"/> is given; a captioner trained with a custom extractor needs one, and one trained
    /// with <see cref="CaptionPipelineBuilder.WithTokenizer"/> needs its <paramref name="tokenizer"/> (tokenizers of
    /// Microsoft.ML.Tokenizers are not saved). <paramref name="decoder"/> sets the rebuilt extractor's image decoding
    /// (its pixel limit, EXIF orientation); by default <see cref="ImageDecoderOptions.ForConcurrentDecoding"/> of its decode threads.
    /// Folders saved by earlier versions (format 1: the captioner's settings in a second file, pipeline.json; format 2
    /// before config.json's settings were covered by a digest) and hand-edited ones load with
    /// <paramref name="integrity"/> <see cref="FolderIntegrity.AllowEdited"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the folder is missing (in a format-1 folder, pipeline.json); the message names it.</exception>
    /// <exception cref="InvalidDataException">
    /// config.json is malformed, has no captioner settings (the folder is a bare <see cref="CaptionModelBundle"/>),
    /// names a network whose features the model does not read, has an invalid setting, or a file or setting changed
    /// since it was saved (with <see cref="FolderIntegrity.Verified"/>, also: config.json records no digests); the
    /// message names the file and key.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="extractor"/> gives features of another size than the model reads.</exception>
    public static Captioner Load(string folder, Device? device = null, IFeatureExtractor? extractor = null, ILoggerFactory? loggerFactory = null,
        Microsoft.ML.Tokenizers.Tokenizer? tokenizer = null, ImageDecoderOptions? decoder = null, FolderIntegrity integrity = FolderIntegrity.Verified)
    {
        var (bundle, settings, settingsPath) = CaptionerFolder.LoadCaptioner(folder, device, tokenizer, integrity);
        try
        {
            var owns = extractor is null;
            if (extractor is null && settings.Network is { } network && settings.Weights is { } weights)
                extractor = FeatureNetworks.Create(network, weights, RebuiltExtractorOptions(folder, bundle, device, decoder),
                    (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ImageCaptioning.Vision"));
            else if (extractor is null && bundle.Model.Encoder is not null)
            {
                // The encoder is in the model: the extractor only decodes and transforms, as it did for training.
                var options = RebuiltExtractorOptions(folder, bundle, device, decoder);
                extractor = CaptionerFolder.Invalid(ConfigPath(folder), "featureExtractor.preprocessing",
                    () => new PixelFeatureExtractor(options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ImageCaptioning.Vision")));
            }
            if (extractor is not null && extractor.Dimension != bundle.Model.InputDimension)
            {
                var mismatch = $"the feature extractor {extractor.Name} gives {extractor.Dimension}-float features but the model reads {bundle.Model.InputDimension}";
                if (!owns) throw new ArgumentException(mismatch, nameof(extractor));
                extractor.Dispose();
                throw new InvalidDataException($"{settingsPath}: {mismatch}");
            }
            return new Captioner(bundle, extractor, owns && extractor is not null, null, null, null, null, settings, loggerFactory);
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }

    // The preprocessing comes from config.json, which validated each value alone; whether they make a usable transform
    // (a fixed output size, one mean and std per channel) is known only here, and is still an error of that file.
    private static FeatureExtractorOptions RebuiltExtractorOptions(string folder, CaptionModelBundle bundle, Device? device, ImageDecoderOptions? decoder) =>
        CaptionerFolder.Invalid(ConfigPath(folder), "featureExtractor.preprocessing", () =>
        {
            var options = new FeatureExtractorOptions { Transform = bundle.FeatureExtractor?.Preprocessing ?? ImageTransformOptions.Recipe224, Device = device };
            return decoder is null ? options : options with { Decoder = decoder };
        });

    private static string ConfigPath(string folder) => Path.Combine(Path.GetFullPath(folder), CaptionerFolder.ConfigFileName);

    /// <summary>Frees the model, the feature cache handle and the extractor the pipeline created.</summary>
    public void Dispose()
    {
        bundle.Dispose();
        store?.Dispose();
        if (ownsExtractor) extractor?.Dispose();
    }

    // References are stored cleaned, with the sequence marks; reports and scores use the caption alone.
    private static string WithoutMarks(string caption, string[] marks) =>
        string.Join(' ', caption.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !marks.Contains(w, StringComparer.Ordinal)));

    private Device DeviceOfModel() => bundle.Model.parameters().First().device;

    private CaptionCorpus? Corpus(SplitPart part) => split is null ? null : part switch
    {
        SplitPart.Train => split.Train,
        SplitPart.Validation => split.Validation,
        _ => split.Test,
    };
}

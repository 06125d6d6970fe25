using ImageCaptioning.Data;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// The (image file, caption) pairs of a caption corpus (Flickr8k, COCO or a Karpathy split, read by
/// <see cref="CaptionReader"/>) for <see cref="PretrainedFineTuner"/>: one sample per caption, batched and shuffled as
/// every <see cref="Sequence{TBatch}"/> is (the order of an epoch is a function of the seed and the epoch only), the
/// images decoded when a batch is built. Images are <c>imageFolder/imageId</c>; every one is checked to exist, and every
/// caption to be non-blank, when the data is created.
/// </summary>
public sealed class PretrainedCaptionData : Sequence<PretrainedCaptionBatch>
{
    private readonly (int Image, string Caption)[] pairs;
    private readonly string[] imageIds;
    private readonly string[] imagePaths;
    private readonly int[] order;
    private readonly ImageDecoderOptions decoder;

    private PretrainedCaptionData((int, string)[] pairs, string[] imageIds, string[] imagePaths, int skippedImages, PretrainedCaptionDataOptions options)
        : base(options)
    {
        (this.pairs, this.imageIds, this.imagePaths, SkippedImages, decoder) = (pairs, imageIds, imagePaths, skippedImages, options.Decoder);
        order = new int[pairs.Length];
        Count = BatchCountFor(pairs.Length);
    }

    /// <summary>
    /// The pairs of <paramref name="corpus"/> with images under <paramref name="imageFolder"/>, in corpus order (images
    /// in first-appearance order, each image's captions in file order) before shuffling.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The image folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Images are missing (with <see cref="MissingFeaturePolicy.Throw"/>); the message counts them and names the first ones and their paths.</exception>
    /// <exception cref="InvalidDataException">A caption is empty or blank; the message names the image and the caption's number.</exception>
    /// <exception cref="ArgumentException">No pair is left.</exception>
    public static PretrainedCaptionData Create(CaptionCorpus corpus, string imageFolder, PretrainedCaptionDataOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentException.ThrowIfNullOrEmpty(imageFolder);
        options ??= new PretrainedCaptionDataOptions();
        if (!Directory.Exists(imageFolder)) throw new DirectoryNotFoundException($"the image folder '{imageFolder}' does not exist");
        var ids = new List<string>();
        var paths = new List<string>();
        var pairs = new List<(int, string)>();
        var missing = new List<string>();
        foreach (var id in corpus.ImageIds)
        {
            var path = Path.Combine(imageFolder, id);
            if (!File.Exists(path))
            {
                missing.Add(id);
                continue;
            }
            var captions = corpus[id];
            for (var k = 0; k < captions.Count; k++)
                if (string.IsNullOrWhiteSpace(captions[k]))
                    throw new InvalidDataException($"caption {k + 1} of image '{id}' is empty: a caption must have text to train on");
            foreach (var caption in captions) pairs.Add((ids.Count, caption));
            ids.Add(id);
            paths.Add(path);
        }
        if (missing.Count > 0)
        {
            var first = string.Join(", ", missing.Take(5).Select(id => $"'{id}' ({Path.Combine(imageFolder, id)})"));
            if (options.MissingImages == MissingFeaturePolicy.Throw)
                throw new FileNotFoundException($"{missing.Count} image(s) of the caption corpus are not in '{imageFolder}', first: {first}", Path.Combine(imageFolder, missing[0]));
            logger?.LogWarning("Left out {Count} image(s) of the caption corpus that are not in {Folder}, first: {First}", missing.Count, imageFolder, first);
        }
        if (pairs.Count == 0) throw new ArgumentException($"no caption of the corpus has its image in '{imageFolder}'", nameof(corpus));
        return new PretrainedCaptionData([.. pairs], [.. ids], [.. paths], missing.Count, options);
    }

    /// <summary>Batches per epoch.</summary>
    public override int Count { get; }

    /// <summary>The (image, caption) pairs: one sample each.</summary>
    public int PairCount => pairs.Length;

    /// <summary>Corpus images left out because they are not in the image folder (with <see cref="MissingFeaturePolicy.Skip"/>).</summary>
    public int SkippedImages { get; }

    /// <summary>Every caption with its image id, in corpus order (the validation pass's order needs none other).</summary>
    internal IEnumerable<(string ImageId, string Caption)> Pairs => pairs.Select(p => (imageIds[p.Image], p.Caption));

    /// <summary>Each image once, in corpus order, with its file and every caption of it: what validation captions and scores.</summary>
    internal IReadOnlyList<(string ImageId, string Path, IReadOnlyList<string> Captions)> Images
    {
        get
        {
            var captions = new List<string>[imageIds.Length];
            for (var i = 0; i < captions.Length; i++) captions[i] = [];
            foreach (var (image, caption) in pairs) captions[image].Add(caption);
            return [.. imageIds.Select((id, i) => (id, imagePaths[i], (IReadOnlyList<string>)captions[i]))];
        }
    }

    /// <summary>Decodes an image file as the batches' images are.</summary>
    internal RgbImage Decode(string path) => ImageDecoder.Decode(path, decoder);

    /// <inheritdoc/>
    protected override void PrepareEpoch(int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) CreateEpochRandom(epoch).Shuffle(order);
    }

    /// <inheritdoc/>
    protected override PretrainedCaptionBatch GetBatch(int index)
    {
        var rows = order.AsSpan(index * Options.BatchSize, Math.Min(Options.BatchSize, order.Length - (index * Options.BatchSize))).ToArray();
        var images = new List<RgbImage>(rows.Length);
        try
        {
            foreach (var row in rows) images.Add(Decode(imagePaths[pairs[row].Image]));
        }
        catch
        {
            foreach (var image in images) image.Dispose();
            throw;
        }
        return new PretrainedCaptionBatch([.. rows.Select(r => imageIds[pairs[r].Image])], images, [.. rows.Select(r => pairs[r].Caption)]);
    }
}

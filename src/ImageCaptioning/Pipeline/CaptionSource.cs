using ImageCaptioning.Data;
using ImageCaptioning.Text;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pipeline;

/// <summary>Where captions and images come from; read when the pipeline trains.</summary>
internal abstract record CaptionSource(string Description)
{
    /// <summary>The folder holding the images named by the captions' image ids.</summary>
    public abstract string ImageDirectory { get; }

    /// <summary>A folder for derived files (the default feature cache).</summary>
    public abstract string WorkingDirectory { get; }

    /// <summary>Throws naming the missing file or folder and what to pass instead.</summary>
    public abstract void Validate();

    /// <summary>The captions, and the source's own split when it defines one (as image id lists).</summary>
    public abstract (CaptionCorpus Corpus, (IReadOnlyList<string> Train, IReadOnlyList<string>? Validation, IReadOnlyList<string> Test)? Split) Read(
        CaptionReaderOptions reading, ILogger logger);

    protected static void RequireDirectory(string path, string what, string hint)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{what} '{path}' does not exist. {hint}");
    }

    protected static void RequireFile(string path, string what, string hint)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} '{path}' does not exist. {hint}", path);
    }
}

/// <summary>
/// A Flickr8k folder in either common layout: Kaggle's (captions.txt and Images/) or the original release
/// (Flickr8k_text/Flickr8k.token.txt with the Flickr_8k.*Images.txt split lists, and Flicker8k_Dataset/).
/// The official split is used when its lists are present.
/// </summary>
internal sealed record Flickr8kSource(string Root) : CaptionSource($"Flickr8k at {Root}")
{
    private const string Hint = "Expected Kaggle's layout (captions.txt + Images/) or the original one (Flickr8k_text/Flickr8k.token.txt + Flicker8k_Dataset/). Flickr8k is not downloaded by this library: get it from https://www.kaggle.com/datasets/adityajn105/flickr8k and pass its folder to WithFlickr8k.";

    private string TextDirectory => Directory.Exists(Path.Combine(Root, "Flickr8k_text")) ? Path.Combine(Root, "Flickr8k_text") : Root;
    private string CaptionsCsv => Path.Combine(Root, "captions.txt");
    private string TokenFile => Path.Combine(TextDirectory, "Flickr8k.token.txt");

    public override string ImageDirectory =>
        Directory.Exists(Path.Combine(Root, "Images")) ? Path.Combine(Root, "Images") : Path.Combine(Root, "Flicker8k_Dataset");

    public override string WorkingDirectory => Root;

    public override void Validate()
    {
        RequireDirectory(Root, "the Flickr8k folder", Hint);
        if (!File.Exists(CaptionsCsv) && !File.Exists(TokenFile))
            throw new FileNotFoundException($"the Flickr8k folder '{Root}' has neither captions.txt nor Flickr8k_text/Flickr8k.token.txt. {Hint}", CaptionsCsv);
        RequireDirectory(ImageDirectory, "the Flickr8k image folder", Hint);
    }

    public override (CaptionCorpus, (IReadOnlyList<string>, IReadOnlyList<string>?, IReadOnlyList<string>)?) Read(CaptionReaderOptions reading, ILogger logger)
    {
        var corpus = File.Exists(CaptionsCsv) ? CaptionReader.ReadFlickr8kCsv(CaptionsCsv, reading, logger) : CaptionReader.ReadFlickr8kTokens(TokenFile, reading, logger);
        var train = Path.Combine(TextDirectory, "Flickr_8k.trainImages.txt");
        var dev = Path.Combine(TextDirectory, "Flickr_8k.devImages.txt");
        var test = Path.Combine(TextDirectory, "Flickr_8k.testImages.txt");
        if (!File.Exists(train) || !File.Exists(test)) return (corpus, null);
        return (corpus, (ReadList(train), File.Exists(dev) ? ReadList(dev) : null, ReadList(test)));

        IReadOnlyList<string> ReadList(string path)
        {
            var names = CaptionReader.ReadImageList(path, reading, logger);
            // Reported against the list, where the stray name is: the split would fail later without saying where.
            if (names.FirstOrDefault(name => !corpus.Contains(name)) is { } stray)
            {
                var line = 1 + File.ReadLines(path).TakeWhile(l => l.Trim() != stray).Count();
                throw new CaptionFormatException(path, line, $"image '{stray}' has no caption in {Path.GetFileName(File.Exists(CaptionsCsv) ? CaptionsCsv : TokenFile)}");
            }
            return names;
        }
    }
}

/// <summary>A COCO captions JSON (captions_train2017.json shape) with its image folder.</summary>
internal sealed record CocoSource(string CaptionsPath, string Images) : CaptionSource($"COCO captions {CaptionsPath}")
{
    public override string ImageDirectory => Images;
    public override string WorkingDirectory => Path.GetDirectoryName(Path.GetFullPath(CaptionsPath))!;

    public override void Validate()
    {
        RequireFile(CaptionsPath, "the COCO captions file", "Pass the path of a captions_*.json file to WithCoco.");
        RequireDirectory(Images, "the COCO image folder", "Pass the folder holding the images the captions name (e.g. train2017/).");
    }

    public override (CaptionCorpus, (IReadOnlyList<string>, IReadOnlyList<string>?, IReadOnlyList<string>)?) Read(CaptionReaderOptions reading, ILogger logger) =>
        (CaptionReader.ReadCoco(CaptionsPath, reading, logger), null);
}

/// <summary>A Karpathy split file (dataset_flickr8k.json, dataset_coco.json) with its image folder; uses its split.</summary>
internal sealed record KarpathySource(string SplitsPath, string Images) : CaptionSource($"Karpathy splits {SplitsPath}")
{
    public override string ImageDirectory => Images;
    public override string WorkingDirectory => Path.GetDirectoryName(Path.GetFullPath(SplitsPath))!;

    public override void Validate()
    {
        RequireFile(SplitsPath, "the Karpathy split file", "Pass the path of dataset_flickr8k.json or dataset_coco.json to WithKarpathySplits.");
        RequireDirectory(Images, "the image folder", "Pass the folder holding the images the split file names.");
    }

    public override (CaptionCorpus, (IReadOnlyList<string>, IReadOnlyList<string>?, IReadOnlyList<string>)?) Read(CaptionReaderOptions reading, ILogger logger)
    {
        var split = CaptionSplits.Karpathy(CaptionReader.ReadKarpathy(SplitsPath, reading, logger));
        var all = CaptionCorpus.Create(split.Train.Entries().Concat(split.Validation.Entries()).Concat(split.Test.Entries()));
        return (all, (split.Train.ImageIds, split.Validation.ImageIds, split.Test.ImageIds));
    }
}

/// <summary>Captions given in memory, with the folder holding their images.</summary>
internal sealed record InMemorySource(CaptionCorpus Corpus, string Images) : CaptionSource("captions given in memory")
{
    public override string ImageDirectory => Images;
    public override string WorkingDirectory => Images;

    public override void Validate()
    {
        if (Corpus.ImageIds.Count == 0) throw new ArgumentException("the caption corpus given to WithCaptions is empty", nameof(Corpus));
        RequireDirectory(Images, "the image folder", "Pass the folder holding the images the captions name to WithCaptions.");
    }

    public override (CaptionCorpus, (IReadOnlyList<string>, IReadOnlyList<string>?, IReadOnlyList<string>)?) Read(CaptionReaderOptions reading, ILogger logger) => (Corpus, null);
}

namespace ImageCaptioning.Text;

/// <summary>
/// The Karpathy split of a dataset (<c>dataset_flickr8k.json</c>, <c>dataset_coco.json</c>): every image's captions
/// and the split it belongs to (<c>train</c>, <c>val</c>, <c>test</c>, and <c>restval</c> for COCO).
/// </summary>
public sealed class KarpathySplits
{
    private readonly IReadOnlyDictionary<string, string> splitOf;

    internal KarpathySplits(CaptionCorpus corpus, IReadOnlyDictionary<string, string> splitOf)
    {
        Corpus = corpus;
        this.splitOf = splitOf;
    }

    /// <summary>All images with their raw captions, in file order.</summary>
    public CaptionCorpus Corpus { get; }

    /// <summary>The split names present, in order of first appearance.</summary>
    public IReadOnlyList<string> SplitNames => [.. Corpus.ImageIds.Select(id => splitOf[id]).Distinct(StringComparer.Ordinal)];

    /// <summary>The split of <paramref name="imageId"/>.</summary>
    public string SplitOf(string imageId) =>
        splitOf.TryGetValue(imageId, out var split) ? split : throw new KeyNotFoundException($"image '{imageId}' is not in the Karpathy split file");

    /// <summary>The images of the named splits (e.g. <c>"train", "restval"</c>), in file order.</summary>
    public CaptionCorpus Split(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var wanted = new HashSet<string>(names, StringComparer.Ordinal);
        return Corpus.Subset(Corpus.ImageIds.Where(id => wanted.Contains(splitOf[id])));
    }
}

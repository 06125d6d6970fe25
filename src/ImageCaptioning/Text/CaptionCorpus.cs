namespace ImageCaptioning.Text;

/// <summary>
/// An immutable set of images and their captions. Images keep the order of their first appearance and each
/// image's captions keep their file order, so a corpus read twice iterates identically.
/// </summary>
public sealed class CaptionCorpus
{
    private readonly string[] imageIds;
    private readonly string[][] captions;
    private readonly Dictionary<string, int> positions;

    private CaptionCorpus(string[] imageIds, string[][] captions, Dictionary<string, int> positions)
    {
        this.imageIds = imageIds;
        this.captions = captions;
        this.positions = positions;
        CaptionCount = captions.Sum(list => list.Length);
    }

    /// <summary>A corpus with no images.</summary>
    public static CaptionCorpus Empty { get; } = new([], [], new(StringComparer.Ordinal));

    /// <summary>Groups <paramref name="entries"/> by image, keeping first-appearance order of images and captions.</summary>
    public static CaptionCorpus Create(IEnumerable<ImageCaption> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new List<string>();
        var lists = new List<List<string>>();
        foreach (var (imageId, caption) in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(imageId, nameof(entries));
            ArgumentNullException.ThrowIfNull(caption, nameof(entries));
            if (!positions.TryGetValue(imageId, out var position))
            {
                position = ids.Count;
                positions.Add(imageId, position);
                ids.Add(imageId);
                lists.Add([]);
            }
            lists[position].Add(caption);
        }
        return new CaptionCorpus([.. ids], [.. lists.Select(list => list.ToArray())], positions);
    }

    /// <summary>The images, in order of first appearance.</summary>
    public IReadOnlyList<string> ImageIds => imageIds;

    /// <summary>Number of images.</summary>
    public int ImageCount => imageIds.Length;

    /// <summary>Number of captions over all images.</summary>
    public int CaptionCount { get; }

    /// <summary>The captions of <paramref name="imageId"/>, in file order.</summary>
    /// <exception cref="KeyNotFoundException">The image is not in the corpus.</exception>
    public IReadOnlyList<string> this[string imageId] =>
        TryGetCaptions(imageId, out var list) ? list : throw new KeyNotFoundException($"image '{imageId}' is not in the caption corpus");

    /// <summary>The captions of the image at <paramref name="position"/> in <see cref="ImageIds"/>.</summary>
    public IReadOnlyList<string> CaptionsAt(int position) => captions[position];

    /// <summary>Whether the corpus holds <paramref name="imageId"/>.</summary>
    public bool Contains(string imageId) => positions.ContainsKey(imageId);

    /// <summary>Looks up the captions of <paramref name="imageId"/>.</summary>
    public bool TryGetCaptions(string imageId, out IReadOnlyList<string> imageCaptions)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        if (positions.TryGetValue(imageId, out var position))
        {
            imageCaptions = captions[position];
            return true;
        }
        imageCaptions = [];
        return false;
    }

    /// <summary>Every (image, caption) pair: images in corpus order, captions in file order.</summary>
    public IEnumerable<ImageCaption> Entries()
    {
        for (var i = 0; i < imageIds.Length; i++)
            foreach (var caption in captions[i])
                yield return new ImageCaption(imageIds[i], caption);
    }

    /// <summary>
    /// The images <paramref name="selectedIds"/>, in the order given, with all their captions.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Some ids are not in the corpus; the message lists the first ones.</exception>
    public CaptionCorpus Subset(IEnumerable<string> selectedIds)
    {
        ArgumentNullException.ThrowIfNull(selectedIds);
        var missing = new List<string>();
        var missingCount = 0;
        var chosen = new List<int>();
        var seen = new HashSet<int>();
        foreach (var id in selectedIds)
        {
            if (!positions.TryGetValue(id, out var position))
            {
                if (missing.Count < 10) missing.Add(id);
                missingCount++;
            }
            else if (seen.Add(position))
            {
                chosen.Add(position);
            }
        }
        if (missingCount > 0)
            throw new KeyNotFoundException($"{missingCount} image id(s) are not in the caption corpus, first: {string.Join(", ", missing)}");
        var subsetPositions = new Dictionary<string, int>(chosen.Count, StringComparer.Ordinal);
        for (var i = 0; i < chosen.Count; i++) subsetPositions.Add(imageIds[chosen[i]], i);
        return new CaptionCorpus([.. chosen.Select(p => imageIds[p])], [.. chosen.Select(p => captions[p])], subsetPositions);
    }
}

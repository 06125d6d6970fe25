using ImageCaptioning.Text;

namespace ImageCaptioning.Data;

/// <summary>Ways to split a <see cref="CaptionCorpus"/> by image.</summary>
public static class CaptionSplits
{
    /// <summary>
    /// A reproducible random split by image: the images are shuffled with <paramref name="seed"/>, the first
    /// <paramref name="trainFraction"/> (rounded) train, the next <paramref name="validationFraction"/> validate, the
    /// rest test. Each part keeps the corpus order.
    /// </summary>
    public static CaptionSplit RandomByImage(CaptionCorpus corpus, double trainFraction = 0.8, int seed = 0, double validationFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (!(trainFraction is >= 0 and <= 1) || !(validationFraction is >= 0 and <= 1) || trainFraction + validationFraction > 1)
            throw new ArgumentOutOfRangeException(nameof(trainFraction), $"train ({trainFraction}) and validation ({validationFraction}) fractions must be in [0, 1] and sum to at most 1");
        var positions = Enumerable.Range(0, corpus.ImageCount).ToArray();
        new Random(seed).Shuffle(positions);
        var (trainCount, validationCount, _) = PartSizes(corpus.ImageCount, trainFraction, validationFraction);
        var part = new int[corpus.ImageCount];
        for (var i = 0; i < positions.Length; i++) part[positions[i]] = i < trainCount ? 0 : i < trainCount + validationCount ? 1 : 2;
        CaptionCorpus Part(int which) => corpus.Subset(corpus.ImageIds.Where((_, position) => part[position] == which));
        return new CaptionSplit(Part(0), Part(1), Part(2));
    }

    /// <summary>How many of <paramref name="imageCount"/> images <see cref="RandomByImage"/> puts in each part.</summary>
    public static (int Train, int Validation, int Test) PartSizes(int imageCount, double trainFraction, double validationFraction = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageCount);
        var train = (int)Math.Round(imageCount * trainFraction, MidpointRounding.AwayFromZero);
        var validation = Math.Min((int)Math.Round(imageCount * validationFraction, MidpointRounding.AwayFromZero), imageCount - train);
        return (train, validation, imageCount - train - validation);
    }

    /// <summary>
    /// The fewest images from which on <see cref="RandomByImage"/> leaves at least one image in the train and test
    /// parts, and in the validation part when <paramref name="validationFraction"/> is above 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fractions leave no test share, or one so small that no dataset fits in an int.</exception>
    public static int MinimumImageCount(double trainFraction, double validationFraction = 0)
    {
        if (!(trainFraction is > 0 and < 1) || !(validationFraction is >= 0 and < 1) || !(trainFraction + validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), $"train ({trainFraction}) and validation ({validationFraction}) fractions must leave a share for each part");
        // From here on every share is at least 1.5 images, so no rounding can empty a part; walk down from there.
        var smallest = Math.Min(Math.Min(trainFraction, 1 - trainFraction - validationFraction), validationFraction > 0 ? validationFraction : 1);
        var safe = Math.Ceiling(1.5 / smallest) + 2;
        if (safe > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(trainFraction), "a part's share is too small for any dataset to fill it");
        var count = (int)safe;
        while (count > 1 && Fits(count - 1)) count--;
        return count;

        bool Fits(int images)
        {
            var (train, validation, test) = PartSizes(images, trainFraction, validationFraction);
            return train > 0 && test > 0 && (validation > 0 || validationFraction == 0);
        }
    }

    /// <summary>The images named by the lists, in list order (e.g. Flickr8k's official split files).</summary>
    /// <exception cref="KeyNotFoundException">A listed image has no captions; the message names the first ones.</exception>
    /// <exception cref="ArgumentException">An image is in two lists.</exception>
    public static CaptionSplit FromImageLists(CaptionCorpus corpus, IEnumerable<string> train, IEnumerable<string>? validation, IEnumerable<string> test)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        IReadOnlyList<string>[] lists = [[.. train], [.. validation ?? []], [.. test]];
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] names = ["train", "validation", "test"];
        for (var part = 0; part < lists.Length; part++)
            foreach (var id in lists[part])
                if (!owner.TryAdd(id, part) && owner[id] != part)
                    throw new ArgumentException($"image '{id}' is in both the {names[owner[id]]} and the {names[part]} list");
        return new CaptionSplit(corpus.Subset(lists[0]), corpus.Subset(lists[1]), corpus.Subset(lists[2]));
    }

    /// <summary>Flickr8k's official split from its list files (<c>Flickr_8k.trainImages.txt</c>, <c>devImages</c>, <c>testImages</c>).</summary>
    public static CaptionSplit Flickr8k(CaptionCorpus corpus, string trainListPath, string? devListPath, string testListPath) =>
        FromImageLists(corpus, CaptionReader.ReadImageList(trainListPath),
            devListPath is null ? null : CaptionReader.ReadImageList(devListPath), CaptionReader.ReadImageList(testListPath));

    /// <summary>The Karpathy split; <c>restval</c> images join the training set when <paramref name="restvalInTrain"/> is set (the usual COCO practice).</summary>
    public static CaptionSplit Karpathy(KarpathySplits splits, bool restvalInTrain = true)
    {
        ArgumentNullException.ThrowIfNull(splits);
        return new CaptionSplit(restvalInTrain ? splits.Split("train", "restval") : splits.Split("train"), splits.Split("val"), splits.Split("test"));
    }
}

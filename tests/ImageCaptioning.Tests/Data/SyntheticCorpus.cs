using System.Text;
using ImageCaptioning.Data;
using ImageCaptioning.Text;

namespace ImageCaptioning.Tests.Data;

/// <summary>Small Flickr8k-shaped corpora with the punctuation, case and one-letter words real captions have.</summary>
internal static class SyntheticCorpus
{
    private static readonly string[] Words =
    [
        "dog", "cat", "runs", "on", "the", "grass", "man", "red", "ball", "jumps", "over", "water", "child", "plays",
        "in", "park", "two", "people", "sit", "bench", "white", "black", "brown", "beach", "street", "girl",
    ];

    public static List<ImageCaption> Captions(int images, int perImage, int seed, int minWords = 2, int maxWords = 14)
    {
        var random = new Random(seed);
        var captions = new List<ImageCaption>();
        for (var image = 0; image < images; image++)
        {
            var id = $"{1000 + image * 37}_{image:x4}.jpg";
            for (var k = 0; k < perImage; k++)
            {
                var words = Enumerable.Range(0, random.Next(minWords, maxWords + 1)).Select(_ => Words[random.Next(Words.Length)]).ToList();
                // Noise the cleaning must remove: one-letter words, digits, punctuation, quotes, capitals.
                if (random.Next(3) == 0) words.Insert(random.Next(words.Count), "a");
                if (random.Next(4) == 0) words.Insert(random.Next(words.Count), "3");
                if (random.Next(3) == 0) words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
                if (random.Next(3) == 0) words[random.Next(words.Count)] += ",";
                if (random.Next(5) == 0) words[random.Next(words.Count)] = $"\"{words[random.Next(words.Count)]}\"";
                captions.Add(new ImageCaption(id, string.Join(' ', words) + " ."));
            }
        }
        return captions;
    }

    /// <summary>Writes captions.txt as the Kaggle file is written: quoting only fields that need it.</summary>
    public static void WriteCsv(string path, IEnumerable<ImageCaption> captions)
    {
        var text = new StringBuilder("image,caption\n");
        foreach (var (image, caption) in captions)
        {
            var field = caption.Contains(',') || caption.Contains('"') ? $"\"{caption.Replace("\"", "\"\"")}\"" : caption;
            text.Append(image).Append(',').Append(field).Append('\n');
        }
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Distinct, exactly representable features; rows in reverse corpus order so that row != image position.</summary>
    public static InMemoryFeatureSource Features(IReadOnlyList<string> imageIds, int dimension)
    {
        var ids = imageIds.Reverse().ToArray();
        var values = new float[ids.Length * dimension];
        for (var i = 0; i < values.Length; i++) values[i] = i + 0.25f;
        return new InMemoryFeatureSource(ids, dimension, values);
    }

    public static float[] Row(IFeatureSource features, string imageId)
    {
        var row = new float[features.Dimension];
        features.Read(imageId, row);
        return row;
    }
}

using System.Globalization;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// Generates a captioned-image dataset that needs no download: coloured shapes on a plain background, each in a
/// cell of a 3×3 grid, with captions from a small grammar that state only what is drawn. A model that learns the
/// task reaches high BLEU, and one that ignores the image cannot, which makes it a quick end-to-end check of a
/// captioning pipeline. <see cref="Generate"/> writes it in the Flickr8k layout so the real reading path is used.
/// </summary>
/// <remarks>
/// Everything is determined by <see cref="Options"/> (including <see cref="SyntheticDatasetOptions.Seed"/>): scenes,
/// captions and the JPEG bytes repeat exactly. Image <c>k</c> depends only on the seed and <c>k</c>, so a larger
/// <see cref="SyntheticDatasetOptions.ImageCount"/> extends a dataset rather than changing it.
/// </remarks>
public sealed partial class SyntheticCaptionedImages
{
    /// <summary>The caption file's name, as in the Kaggle Flickr8k download.</summary>
    public const string CaptionsFileName = "captions.txt";

    /// <summary>The image folder's name, as in the Kaggle Flickr8k download.</summary>
    public const string ImagesFolderName = "Images";

    /// <summary>The manifest that marks a complete dataset and the options that made it.</summary>
    public const string ManifestFileName = "synthetic.json";

    // Bump when drawing or the grammar changes, so existing folders are regenerated rather than reused.
    internal const int GeneratorVersion = 1;

    // Sizes as fractions of a grid cell. A large shape nearly fills its cell; the margin keeps neighbours apart.
    private const double LargeRadius = 0.42;
    private const double SmallRadius = 0.24;
    private const double CellMargin = 0.03;

    private IReadOnlyList<SyntheticImage>? images;

    /// <summary>Creates a generator; null options mean <see cref="SyntheticDatasetOptions.Default"/>.</summary>
    /// <exception cref="ArgumentException">Settings conflict (for example more objects than positions); the message names them.</exception>
    public SyntheticCaptionedImages(SyntheticDatasetOptions? options = null)
    {
        options ??= SyntheticDatasetOptions.Default;
        options.Validate();
        Options = options;
    }

    /// <summary>What is generated.</summary>
    public SyntheticDatasetOptions Options { get; }

    /// <summary>
    /// The images' ids, scenes and captions, computed without touching the disk (cheap: nothing is drawn). The same
    /// list <see cref="Generate"/> returns.
    /// </summary>
    public IReadOnlyList<SyntheticImage> Describe() => images ??= CreateImages();

    private SyntheticImage[] CreateImages()
    {
        var digits = Math.Max(5, (Options.ImageCount - 1).ToString(CultureInfo.InvariantCulture).Length);
        var result = new SyntheticImage[Options.ImageCount];
        for (var index = 0; index < result.Length; index++)
        {
            var scene = CreateScene(index);
            var id = Options.ImageIdPrefix + index.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".jpg";
            result[index] = new SyntheticImage(id, scene, Array.AsReadOnly(CaptionGrammar.Captions(scene.Objects, Options.CaptionsPerImage)));
        }
        return result;
    }

    private SyntheticScene CreateScene(int index)
    {
        var random = new SyntheticRandom(Options.Seed, index);
        var count = Options.MinObjectCount + random.NextInt(Options.MaxObjectCount - Options.MinObjectCount + 1);

        // A partial Fisher-Yates shuffle picks distinct cells; sorting them gives the reading order captions use.
        var cells = Options.Positions.ToArray();
        for (var i = 0; i < count; i++)
        {
            var j = i + random.NextInt(cells.Length - i);
            (cells[i], cells[j]) = (cells[j], cells[i]);
        }
        Array.Sort(cells, 0, count);

        var cell = Options.ImageSize / 3.0;
        var used = new HashSet<(SyntheticShape, string)>();
        var objects = new SyntheticObject[count];
        for (var i = 0; i < count; i++)
        {
            SyntheticShape shape;
            SyntheticColor color;
            // Options.Validate guarantees enough distinct pairs, so this ends.
            do
            {
                shape = random.Pick(Options.Shapes);
                color = random.Pick(Options.Colors);
            }
            while (!used.Add((shape, color.Name)));

            var size = random.Pick(Options.Sizes);
            var radius = cell * (size == SyntheticSize.Large ? LargeRadius : SmallRadius);
            // Every shape fits in the circle of its radius, so this much jitter keeps it inside its cell.
            var slack = (cell * (0.5 - CellMargin)) - radius;
            var position = cells[i];
            var x = ((((int)position % 3) + 0.5) * cell) + (slack * random.NextSigned());
            var y = ((((int)position / 3) + 0.5) * cell) + (slack * random.NextSigned());
            objects[i] = new SyntheticObject(shape, color, size, position, x, y, radius);
        }

        return new SyntheticScene(Options.ImageSize, random.Pick(Options.BackgroundColors), objects);
    }
}

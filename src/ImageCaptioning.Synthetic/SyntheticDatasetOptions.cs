using System.Collections.ObjectModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// What <see cref="SyntheticCaptionedImages"/> generates. Each setting is checked when set; the settings that
/// constrain each other (object counts against cells and shape/colour pairs, colours against backgrounds) are
/// checked when a generator is created. Every message names the setting.
/// </summary>
public sealed record SyntheticDatasetOptions
{
    /// <summary>The most captions an image can have: the number of distinct phrasings of the grammar.</summary>
    public const int MaxCaptionsPerImage = CaptionGrammar.PhrasingCount;

    /// <summary>
    /// The least RGB distance (see <see cref="SyntheticColor.DistanceTo"/>) between any two colours in use, so that
    /// colours stay distinguishable after JPEG compression and shapes stand out from every background.
    /// </summary>
    public const double MinColorDistance = 60;

    /// <summary>The defaults: 1,000 images of 224×224 pixels, 5 captions each, 1–3 shapes per image, seed 0.</summary>
    public static SyntheticDatasetOptions Default { get; } = new();

    /// <summary>How many images to generate. Default 1,000.</summary>
    public int ImageCount
    {
        get;
        init => field = InRange(value, 1, 1_000_000, nameof(ImageCount));
    } = 1000;

    /// <summary>Width and height of the square images in pixels, 32 to 2,048. Default 224 (VGG16's input); smaller is faster.</summary>
    public int ImageSize
    {
        get;
        init => field = InRange(value, 32, 2048, nameof(ImageSize));
    } = 224;

    /// <summary>Captions per image, 1 to <see cref="MaxCaptionsPerImage"/>, each a different phrasing. Default 5, as in Flickr8k.</summary>
    public int CaptionsPerImage
    {
        get;
        init => field = InRange(value, 1, MaxCaptionsPerImage, nameof(CaptionsPerImage));
    } = 5;

    /// <summary>Seeds every random choice: the same options always give the same scenes, captions and file bytes. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>JPEG quality of the image files, 1 to 100. Default 90.</summary>
    public int JpegQuality
    {
        get;
        init => field = InRange(value, 1, 100, nameof(JpegQuality));
    } = 90;

    /// <summary>The fewest shapes in an image, 1 to 9. Default 1.</summary>
    public int MinObjectCount
    {
        get;
        init => field = InRange(value, 1, 9, nameof(MinObjectCount));
    } = 1;

    /// <summary>The most shapes in an image, 1 to 9 (and at most the number of <see cref="Positions"/>). Default 3.</summary>
    public int MaxObjectCount
    {
        get;
        init => field = InRange(value, 1, 9, nameof(MaxObjectCount));
    } = 3;

    /// <summary>The kinds of shape drawn. Default: all of <see cref="SyntheticShape"/>.</summary>
    public IReadOnlyList<SyntheticShape> Shapes
    {
        get;
        init => field = DistinctDefined(value, nameof(Shapes));
    } = Array.AsReadOnly(Enum.GetValues<SyntheticShape>());

    /// <summary>Shape colours. Default: red, green, blue, yellow, white, black, purple and orange.</summary>
    public IReadOnlyList<SyntheticColor> Colors
    {
        get;
        init => field = DistinctColors(value, nameof(Colors));
    } = Array.AsReadOnly(new[]
    {
        SyntheticColor.Red, SyntheticColor.Green, SyntheticColor.Blue, SyntheticColor.Yellow,
        SyntheticColor.White, SyntheticColor.Black, SyntheticColor.Purple, SyntheticColor.Orange,
    });

    /// <summary>Background colours, one chosen per image; captions never mention it. Default: gray only.</summary>
    public IReadOnlyList<SyntheticColor> BackgroundColors
    {
        get;
        init => field = DistinctColors(value, nameof(BackgroundColors));
    } = Array.AsReadOnly(new[] { SyntheticColor.Gray });

    /// <summary>Size classes drawn. Default: small and large.</summary>
    public IReadOnlyList<SyntheticSize> Sizes
    {
        get;
        init => field = DistinctDefined(value, nameof(Sizes));
    } = Array.AsReadOnly(Enum.GetValues<SyntheticSize>());

    /// <summary>
    /// Grid cells shapes may occupy. Default: all nine. Restrict it (for example to left, center and right) for an
    /// easier task with fewer position phrases.
    /// </summary>
    public IReadOnlyList<SyntheticPosition> Positions
    {
        get;
        init => field = DistinctDefined(value, nameof(Positions));
    } = Array.AsReadOnly(Enum.GetValues<SyntheticPosition>());

    /// <summary>Start of every image file name: <c>{prefix}{index:D5}.jpg</c>. ASCII letters, digits, '_' and '-'. Default "synthetic_".</summary>
    public string ImageIdPrefix
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(ImageIdPrefix));
            if (value.Length == 0 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                throw new ArgumentException($"{nameof(ImageIdPrefix)} must be non-empty ASCII letters, digits, '_' or '-' (it starts file names and CSV ids) but is '{value}'", nameof(ImageIdPrefix));
            field = value;
        }
    } = "synthetic_";

    /// <summary>Checks the settings that constrain each other.</summary>
    /// <exception cref="ArgumentException">Two settings conflict; the message names both.</exception>
    internal void Validate()
    {
        if (MinObjectCount > MaxObjectCount)
            Conflict($"{nameof(MinObjectCount)} ({MinObjectCount}) is larger than {nameof(MaxObjectCount)} ({MaxObjectCount})");
        if (MaxObjectCount > Positions.Count)
            Conflict($"{nameof(MaxObjectCount)} ({MaxObjectCount}) is larger than the number of {nameof(Positions)} ({Positions.Count}); each shape needs a cell of its own");
        if (MaxObjectCount > Shapes.Count * Colors.Count)
            Conflict($"{nameof(MaxObjectCount)} ({MaxObjectCount}) is larger than the {Shapes.Count * Colors.Count} distinct pairs of {nameof(Shapes)} and {nameof(Colors)}; the shapes of an image differ in kind or colour so captions can tell them apart");

        foreach (var color in Colors)
        {
            if (CaptionGrammar.StructuralWords.Contains(color.Name))
                Conflict($"{nameof(Colors)} holds a colour named '{color.Name}', a word captions already use for something else");
            foreach (var background in BackgroundColors)
                if (color.DistanceTo(background) < MinColorDistance)
                    Conflict($"the colour {color} in {nameof(Colors)} is too close to the background {background} in {nameof(BackgroundColors)} (distance {color.DistanceTo(background):F0} < {MinColorDistance}); such shapes would be invisible");
        }
        CheckSeparated(Colors, nameof(Colors));
    }

    /// <summary>A SHA-256 of every setting and the generator version, naming this exact output.</summary>
    internal string ComputeHash(int generatorVersion)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"version={generatorVersion};count={ImageCount};size={ImageSize};captions={CaptionsPerImage};")
            .Append(CultureInfo.InvariantCulture, $"seed={Seed};quality={JpegQuality};objects={MinObjectCount}-{MaxObjectCount};prefix={ImageIdPrefix};")
            .Append("shapes=").AppendJoin(',', Shapes).Append(';')
            .Append("colors=").AppendJoin(',', Colors.Select(Describe)).Append(';')
            .Append("backgrounds=").AppendJoin(',', BackgroundColors.Select(Describe)).Append(';')
            .Append("sizes=").AppendJoin(',', Sizes).Append(';')
            .Append("positions=").AppendJoin(',', Positions)
            .ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

        static string Describe(SyntheticColor c) => string.Create(CultureInfo.InvariantCulture, $"{c.Name}:{c.R}:{c.G}:{c.B}");
    }

    private static void CheckSeparated(IReadOnlyList<SyntheticColor> colors, string setting)
    {
        for (var i = 0; i < colors.Count; i++)
            for (var j = i + 1; j < colors.Count; j++)
                if (colors[i].DistanceTo(colors[j]) < MinColorDistance)
                    Conflict($"the colours {colors[i]} and {colors[j]} in {setting} are too close to tell apart (distance {colors[i].DistanceTo(colors[j]):F0} < {MinColorDistance})");
    }

    private static void Conflict(string message) =>
        throw new ArgumentException($"Invalid {nameof(SyntheticDatasetOptions)}: {message}.", "options");

    private static int InRange(int value, int min, int max, string setting) =>
        OptionGuard.Require(value, value >= min && value <= max, $"must be between {min} and {max}", setting);

    private static ReadOnlyCollection<T> DistinctDefined<T>(IReadOnlyList<T> value, string setting)
        where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(value, setting);
        if (value.Count == 0)
            throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} must not be empty", setting);
        foreach (var item in value)
            if (!Enum.IsDefined(item))
                throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} holds {item}, which is not a {typeof(T).Name}", setting);
        if (value.Distinct().Count() != value.Count)
            throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} lists a value twice: {string.Join(", ", value)}", setting);
        return Array.AsReadOnly(value.ToArray());
    }

    private static ReadOnlyCollection<SyntheticColor> DistinctColors(IReadOnlyList<SyntheticColor> value, string setting)
    {
        ArgumentNullException.ThrowIfNull(value, setting);
        if (value.Count == 0)
            throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} must not be empty", setting);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var color in value)
        {
            if (color is null) throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} holds a null colour", setting);
            if (!names.Add(color.Name))
                throw new ArgumentException($"{nameof(SyntheticDatasetOptions)}.{setting} holds two colours named '{color.Name}'", setting);
        }
        return Array.AsReadOnly(value.ToArray());
    }
}

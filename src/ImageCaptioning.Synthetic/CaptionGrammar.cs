namespace ImageCaptioning.Synthetic;

/// <summary>
/// The small grammar synthetic captions come from. Every phrasing states only facts of the scene (shape, colour,
/// size, grid cell, count, left/right/above/below relations between cells) and mentions every object, so a model
/// can predict a caption from the image alone. The phrasings share most of their words, so a caption that matches
/// any one of them scores well against all references.
/// </summary>
internal static class CaptionGrammar
{
    /// <summary>How many distinct phrasings there are, so the most captions an image can have.</summary>
    public const int PhrasingCount = 6;

    /// <summary>"The relation phrase of a shape in the same row as, and right of, the one it is stated against.</summary>
    public const string RightOf = "to the right of";

    /// <summary>The relation phrase of a shape in the same column as, and under, the one it is stated against.</summary>
    public const string Below = "below";

    /// <summary>The number words, indexed by their value.</summary>
    public static IReadOnlyList<string> NumberWords { get; } = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>The position phrases of the canonical phrasings, indexed by <see cref="SyntheticPosition"/>.</summary>
    public static IReadOnlyList<string> PositionPhrases { get; } =
    [
        "in the top left corner", "at the top", "in the top right corner",
        "on the left", "in the center", "on the right",
        "in the bottom left corner", "at the bottom", "in the bottom right corner",
    ];

    /// <summary>The position phrases of phrasing 1, indexed by <see cref="SyntheticPosition"/>.</summary>
    public static IReadOnlyList<string> AlternativePositionPhrases { get; } =
    [
        "at the top left", "at the top of the image", "at the top right",
        "on the left side", "in the middle", "on the right side",
        "at the bottom left", "at the bottom of the image", "at the bottom right",
    ];

    /// <summary>Every word the grammar itself uses (colour names come from the options and must not collide).</summary>
    public static IReadOnlySet<string> StructuralWords { get; } = BuildStructuralWords();

    /// <summary>
    /// The first <paramref name="count"/> phrasings for a scene whose objects are in reading order. The first is the
    /// canonical one; the order is fixed so every image uses the same mix of phrasings.
    /// </summary>
    public static string[] Captions(IReadOnlyList<SyntheticObject> objects, int count)
    {
        if (objects.Count == 0) throw new ArgumentException("a scene needs at least one object", nameof(objects));
        var captions = new string[count];
        for (var i = 0; i < count; i++) captions[i] = Phrase(i, objects);
        return captions;
    }

    private static string Phrase(int phrasing, IReadOnlyList<SyntheticObject> objects) => phrasing switch
    {
        // a large red circle on the left and a small blue square in the center
        0 => List(objects.Select(o => $"a {Noun(o)} {PositionPhrases[(int)o.Position]}")),
        // there is a big red circle on the left side and a little blue square in the middle
        1 => "there is " + List(objects.Select(o => $"a {Noun(o, synonyms: true)} {AlternativePositionPhrases[(int)o.Position]}")),
        // an image of a large red circle on the left and ...
        2 => "an image of " + List(objects.Select(o => $"a {Noun(o)} {PositionPhrases[(int)o.Position]}")),
        // the red circle on the left is large / a small blue square to the right of a large red circle
        3 => Relational(objects),
        // on the left there is a large red circle and in the center there is a small blue square
        4 => List(objects.Select(o => $"{PositionPhrases[(int)o.Position]} there is a {Noun(o)}")),
        // one large red circle on the left / two shapes, a large red circle on the left and ...
        5 => objects.Count == 1
            ? $"one {Noun(objects[0])} {PositionPhrases[(int)objects[0].Position]}"
            : $"{NumberWords[objects.Count]} shapes, " + List(objects.Select(o => $"a {Noun(o)} {PositionPhrases[(int)o.Position]}")),
        _ => throw new ArgumentOutOfRangeException(nameof(phrasing), phrasing, $"there are {PhrasingCount} phrasings"),
    };

    private static string Relational(IReadOnlyList<SyntheticObject> objects)
    {
        if (objects.Count == 1)
        {
            var only = objects[0];
            return $"the {only.Color.Name} {ShapeWord(only)} {PositionPhrases[(int)only.Position]} is {SizeWord(only.Size, synonyms: false)}";
        }

        // Reading order puts the first object left of (same row) or above (same column) the second, so the
        // relation is stated from the second object's side: a different word order from the canonical caption.
        if (objects.Count == 2)
        {
            var (first, second) = (objects[0], objects[1]);
            if (first.Row == second.Row) return $"a {Noun(second)} {RightOf} a {Noun(first)}";
            if (first.Column == second.Column) return $"a {Noun(second)} {Below} a {Noun(first)}";
        }

        return List(objects.AsEnumerable().Reverse().Select(o => $"a {Noun(o)} {PositionPhrases[(int)o.Position]}"));
    }

    private static string Noun(SyntheticObject item, bool synonyms = false) =>
        $"{SizeWord(item.Size, synonyms)} {item.Color.Name} {ShapeWord(item)}";

    /// <summary>The word for <paramref name="size"/>: "small"/"large", or with <paramref name="synonyms"/> "little"/"big".</summary>
    public static string SizeWord(SyntheticSize size, bool synonyms) => (size, synonyms) switch
    {
        (SyntheticSize.Small, false) => "small",
        (SyntheticSize.Small, true) => "little",
        (SyntheticSize.Large, false) => "large",
        (SyntheticSize.Large, true) => "big",
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "unknown size"),
    };

    private static string ShapeWord(SyntheticObject item) => ShapeWord(item.Shape);

    /// <summary>The word for <paramref name="shape"/>.</summary>
    public static string ShapeWord(SyntheticShape shape) => shape switch
    {
        SyntheticShape.Circle => "circle",
        SyntheticShape.Square => "square",
        SyntheticShape.Triangle => "triangle",
        SyntheticShape.Star => "star",
        SyntheticShape.Cross => "cross",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown shape"),
    };

    /// <summary>"x", "x and y", "x, y and z".</summary>
    private static string List(IEnumerable<string> items)
    {
        var all = items.ToArray();
        return all.Length == 1 ? all[0] : string.Join(", ", all[..^1]) + " and " + all[^1];
    }

    private static HashSet<string> BuildStructuralWords()
    {
        var words = new HashSet<string>(StringComparer.Ordinal)
        {
            "a", "an", "the", "of", "image", "there", "is", "and", "to", "below", "shapes", "small", "little", "large", "big",
        };
        words.UnionWith(NumberWords);
        foreach (var phrase in PositionPhrases.Concat(AlternativePositionPhrases)) words.UnionWith(phrase.Split(' '));
        foreach (var shape in Enum.GetValues<SyntheticShape>()) words.Add(ShapeWord(shape));
        return words;
    }
}

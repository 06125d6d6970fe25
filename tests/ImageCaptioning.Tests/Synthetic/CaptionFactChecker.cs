using ImageCaptioning.Synthetic;

namespace ImageCaptioning.Tests.Synthetic;

/// <summary>
/// Reads a synthetic caption word by word, independently of the grammar's templates, and lists every statement
/// that the scene does not bear out: a shape, colour, size, cell, count or relation that is not in the image, an
/// object left unmentioned, or a word outside the known vocabulary.
/// </summary>
internal static class CaptionFactChecker
{
    private static readonly Dictionary<string, SyntheticShape> ShapeWords = Enum.GetValues<SyntheticShape>()
        .ToDictionary(s => s.ToString().ToLowerInvariant());

    private static readonly Dictionary<string, SyntheticSize> SizeWords = new()
    {
        ["small"] = SyntheticSize.Small, ["little"] = SyntheticSize.Small,
        ["large"] = SyntheticSize.Large, ["big"] = SyntheticSize.Large,
    };

    private static readonly string[] CountWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    private static readonly HashSet<string> PositionWords = ["top", "bottom", "left", "right", "center", "middle"];

    // Words that carry no fact (articles, "there is", "on the", "corner" after two position words, "of the image").
    private static readonly HashSet<string> FillerWords = ["a", "an", "the", "there", "is", "in", "on", "at", "of", "image", "corner", "side", "shapes"];

    public static IReadOnlyList<string> Check(string caption, SyntheticScene scene, IReadOnlyList<SyntheticColor> palette)
    {
        var problems = new List<string>();
        var colours = palette.ToDictionary(c => c.Name);
        var mentioned = new HashSet<SyntheticObject>();
        var tokens = caption.Replace(",", " , ", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var clause = new List<string>();
        foreach (var token in tokens.Append(","))
        {
            if (token is "and" or ",")
            {
                if (clause.Count > 0) CheckClause(clause);
                clause.Clear();
            }
            else
            {
                clause.Add(token);
            }
        }

        foreach (var item in scene.Objects.Where(o => !mentioned.Contains(o)))
            problems.Add($"the {item.Color.Name} {item.Shape} is not mentioned");
        return problems;

        void CheckClause(List<string> words)
        {
            var text = string.Join(' ', words);
            foreach (var (phrase, column, row) in new[] { ("to the right of", 1, 0), ("to the left of", -1, 0), ("below", 0, 1), ("above", 0, -1) })
            {
                var at = text.IndexOf(phrase, StringComparison.Ordinal);
                if (at < 0) continue;
                var subject = Mention(text[..at].Split(' ', StringSplitOptions.RemoveEmptyEntries), allowPosition: false);
                var reference = Mention(text[(at + phrase.Length)..].Split(' ', StringSplitOptions.RemoveEmptyEntries), allowPosition: false);
                if (subject is null || reference is null) return;
                if (Math.Sign(subject.Column - reference.Column) != column && column != 0
                    || Math.Sign(subject.Row - reference.Row) != row && row != 0)
                    problems.Add($"'{text}': the {subject.Shape} at {subject.Position} is not '{phrase}' the {reference.Shape} at {reference.Position}");
                return;
            }
            Mention(words, allowPosition: true);
        }

        SyntheticObject? Mention(IReadOnlyList<string> words, bool allowPosition)
        {
            var text = string.Join(' ', words);
            var shapes = words.Where(ShapeWords.ContainsKey).Select(w => ShapeWords[w]).ToArray();
            var colourWords = words.Where(colours.ContainsKey).ToArray();
            var sizes = words.Where(SizeWords.ContainsKey).Select(w => SizeWords[w]).ToArray();
            var counts = words.Select(w => Array.IndexOf(CountWords, w)).Where(n => n >= 0).ToArray();
            var positionWords = words.Where(PositionWords.Contains).ToArray();
            foreach (var unknown in words.Where(w => !ShapeWords.ContainsKey(w) && !colours.ContainsKey(w) && !SizeWords.ContainsKey(w)
                && !CountWords.Contains(w) && !PositionWords.Contains(w) && !FillerWords.Contains(w)))
                problems.Add($"'{text}': unknown word '{unknown}'");

            foreach (var count in counts)
            {
                // "two shapes" states how many objects the image has; "one large red circle" that it has one.
                if (count != scene.Objects.Count)
                    problems.Add($"'{text}': says {count} but the image has {scene.Objects.Count} objects");
            }
            if (shapes.Length == 0)
            {
                if (counts.Length == 0) problems.Add($"'{text}': a clause with no object and no count");
                if (colourWords.Length + sizes.Length + positionWords.Length > 0) problems.Add($"'{text}': attributes without a shape");
                return null;
            }
            if (shapes.Length > 1 || colourWords.Length != 1 || sizes.Length > 1)
            {
                problems.Add($"'{text}': expected one shape with one colour and at most one size");
                return null;
            }

            var matches = scene.Objects.Where(o => o.Shape == shapes[0] && o.Color.Name == colourWords[0]).ToArray();
            if (matches.Length != 1)
            {
                problems.Add($"'{text}': the image has {matches.Length} {colourWords[0]} {shapes[0]}s");
                return null;
            }
            var item = matches[0];
            mentioned.Add(item);
            if (sizes.Length == 1 && sizes[0] != item.Size)
                problems.Add($"'{text}': the {item.Color.Name} {item.Shape} is {item.Size}, not {sizes[0]}");
            if (positionWords.Length > 0)
            {
                if (!allowPosition) problems.Add($"'{text}': a position inside a relation");
                else if (Cell(positionWords) is not { } cell) problems.Add($"'{text}': contradictory position words");
                else if (cell != item.Position) problems.Add($"'{text}': the {item.Color.Name} {item.Shape} is at {item.Position}, not {cell}");
            }
            return item;
        }
    }

    private static SyntheticPosition? Cell(string[] words)
    {
        int? row = null, column = null;
        foreach (var word in words)
        {
            (int? r, int? c) = word switch
            {
                "top" => ((int?)0, (int?)null),
                "bottom" => (2, null),
                "left" => (null, 0),
                "right" => (null, 2),
                _ => (1, 1),
            };
            if (r is { } newRow)
            {
                if (row is { } oldRow && oldRow != newRow) return null;
                row = newRow;
            }
            if (c is { } newColumn)
            {
                if (column is { } oldColumn && oldColumn != newColumn) return null;
                column = newColumn;
            }
        }
        return (SyntheticPosition)(((row ?? 1) * 3) + (column ?? 1));
    }
}

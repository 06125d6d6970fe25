namespace ImageCaptioning.Synthetic;

/// <summary>Matches a parsed caption's objects to a scene's and counts what they get right.</summary>
internal static class SceneScorer
{
    /// <summary>The accuracy of <paramref name="parsed"/>, read from <paramref name="caption"/>, against <paramref name="scene"/>.</summary>
    public static SceneImageAccuracy Score(string imageId, string caption, ParsedSceneCaption parsed, SyntheticScene scene)
    {
        var generated = parsed.Objects;
        var truth = scene.Objects;
        var match = Match(generated, truth);

        var related = new bool[generated.Count];
        var misplaced = new bool[generated.Count];
        foreach (var relation in parsed.Relations)
        {
            related[relation.Subject] = related[relation.Reference] = true;
            var (subject, reference) = (match[relation.Subject], match[relation.Reference]);
            if (subject >= 0 && reference >= 0 && relation.Holds(truth[subject].Position, truth[reference].Position)) continue;
            misplaced[relation.Subject] = misplaced[relation.Reference] = true;
        }

        // Each attribute: whether object g states it, and whether it agrees with true object t.
        var attributes = new (Func<int, bool> Stated, Func<int, SyntheticObject, bool> Agrees)[]
        {
            (g => generated[g].Color is not null, (g, t) => generated[g].Color == t.Color.Name),
            (g => generated[g].Shape is not null, (g, t) => generated[g].Shape == t.Shape),
            (g => generated[g].Size is not null, (g, t) => generated[g].Size == t.Size),
            (g => generated[g].Position is not null || related[g], (g, t) => (generated[g].Position ?? t.Position) == t.Position && !misplaced[g]),
        };
        var scores = attributes.Select(attribute => new SceneAttributeAccuracy(
            Enumerable.Range(0, generated.Count).Count(attribute.Stated),
            truth.Count,
            Enumerable.Range(0, generated.Count).Count(g => Right(g, attribute)))).ToArray();
        var rightObjects = Enumerable.Range(0, generated.Count).Count(g => attributes.All(attribute => Right(g, attribute)));
        var countRight = generated.Count == truth.Count && (parsed.StatedCount ?? truth.Count) == truth.Count;

        return new SceneImageAccuracy(imageId, caption, truth.Count, generated.Count, rightObjects,
            scores[0], scores[1], scores[2], scores[3], countRight, parsed.UnparsedWords.Count);

        bool Right(int g, (Func<int, bool> Stated, Func<int, SyntheticObject, bool> Agrees) attribute) =>
            match[g] >= 0 && attribute.Stated(g) && attribute.Agrees(g, truth[match[g]]);
    }

    /// <summary>
    /// For each described object the index of its true object, or -1. One to one: first every object whose cell is
    /// named takes the true object in that cell (cells hold one shape each; the first claim wins); then, most shared
    /// attributes (colour, shape, size) first and caption order breaking ties, the rest pair with free true objects
    /// they share at least one attribute with.
    /// </summary>
    internal static int[] Match(IReadOnlyList<ParsedSceneObject> generated, IReadOnlyList<SyntheticObject> truth)
    {
        var match = Enumerable.Repeat(-1, generated.Count).ToArray();
        var taken = new bool[truth.Count];
        for (var g = 0; g < generated.Count; g++)
        {
            if (generated[g].Position is not { } cell) continue;
            var t = Enumerable.Range(0, truth.Count).FirstOrDefault(k => truth[k].Position == cell, -1);
            if (t >= 0 && !taken[t]) (match[g], taken[t]) = (t, true);
        }

        var candidates =
            from g in Enumerable.Range(0, generated.Count)
            where match[g] < 0
            from t in Enumerable.Range(0, truth.Count)
            where !taken[t]
            let shared = Shared(generated[g], truth[t])
            where shared > 0
            orderby shared descending, g, t
            select (g, t);
        foreach (var (g, t) in candidates.ToList())
            if (match[g] < 0 && !taken[t]) (match[g], taken[t]) = (t, true);
        return match;

        static int Shared(ParsedSceneObject item, SyntheticObject real) =>
            (item.Color == real.Color.Name ? 1 : 0) + (item.Shape == real.Shape ? 1 : 0) + (item.Size == real.Size ? 1 : 0);
    }
}

namespace ImageCaptioning.Synthetic;

/// <summary>
/// Reads the objects a caption describes by inverting <see cref="CaptionGrammar"/>, and reads ungrammatical captions
/// as far as they go. Words are lower-cased; commas and "and" end a clause. Within a clause, adjacent size, colour
/// and shape words make one object (a repeated attribute or any word after the shape starts the next); an object
/// needs a colour or a shape. A position phrase (the grammar's, its alternatives, or a bare run such as "top left")
/// belongs to the object just before it, else to the one just after it ("on the left there is ..."); "is" followed
/// by a lone size word gives the size to the clause's last object ("the red circle ... is large"). "X to the right
/// of Y" and "X below Y" (and "to the left of", "above") relate the objects on either side. "N shapes", or "one"
/// opening the caption, state the count. Articles and the phrasings' glue words are skipped; everything else that
/// fits nowhere is kept as unparsed words. The cleaning a captioning model's vocabulary went through (dropping "a"
/// and commas) does not change the reading.
/// </summary>
internal sealed class SceneCaptionParser
{
    private static readonly string[] PositionWords = ["top", "bottom", "left", "right", "center", "middle"];

    // Longest first, so "at the top left" wins over "at the top" and "to the right of" over a bare "right".
    private static readonly (string[] Words, SceneToken Token)[] Phrases = BuildPhrases();

    private readonly Dictionary<string, SceneToken> vocabulary;
    private readonly HashSet<string> fillerWords;

    /// <summary>A parser for captions whose colour words are the names of <paramref name="colors"/>.</summary>
    public SceneCaptionParser(IEnumerable<SyntheticColor> colors)
    {
        ArgumentNullException.ThrowIfNull(colors);
        vocabulary = new Dictionary<string, SceneToken>(StringComparer.Ordinal)
        {
            ["and"] = new(SceneTokenKind.Separator, 0, "and"),
            [","] = new(SceneTokenKind.Separator, 0, ","),
            ["shapes"] = new(SceneTokenKind.ShapesNoun, 0, "shapes"),
            ["is"] = new(SceneTokenKind.Is, 0, "is"),
        };
        foreach (var size in Enum.GetValues<SyntheticSize>())
            foreach (var word in new[] { CaptionGrammar.SizeWord(size, synonyms: false), CaptionGrammar.SizeWord(size, synonyms: true) })
                vocabulary[word] = new(SceneTokenKind.Size, (int)size, word);
        foreach (var shape in Enum.GetValues<SyntheticShape>())
            vocabulary[CaptionGrammar.ShapeWord(shape)] = new(SceneTokenKind.Shape, (int)shape, CaptionGrammar.ShapeWord(shape));
        for (var n = 0; n < CaptionGrammar.NumberWords.Count; n++)
            vocabulary[CaptionGrammar.NumberWords[n]] = new(SceneTokenKind.Number, n, CaptionGrammar.NumberWords[n]);
        foreach (var color in colors)
            vocabulary[color.Name] = new(SceneTokenKind.Color, 0, color.Name);

        // Whatever else the grammar says only links the facts ("a", "there", "of the image", "corner").
        fillerWords = CaptionGrammar.StructuralWords
            .Where(w => !vocabulary.ContainsKey(w) && !PositionWords.Contains(w) && !Phrases.Any(p => p.Words is [var only] && only == w))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The objects, relations and count <paramref name="caption"/> states, and the words it could not place.</summary>
    public ParsedSceneCaption Parse(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var objects = new List<ParsedSceneObject>();
        var relations = new List<SceneRelation>();
        var unparsed = new List<string>();
        int? statedCount = null;
        var opening = true;
        foreach (var clause in Clauses(Tokenize(caption)))
        {
            var items = Mentions(clause, objects, unparsed);
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                var next = i + 1 < items.Count ? items[i + 1] : default(SceneToken?);
                var previous = i > 0 ? items[i - 1] : default(SceneToken?);
                switch (item.Kind)
                {
                    case SceneTokenKind.Mention:
                        break;
                    case SceneTokenKind.Number when next?.Kind == SceneTokenKind.ShapesNoun && statedCount is null:
                        statedCount = item.Value;
                        i++;
                        break;
                    case SceneTokenKind.Number when item.Value == 1 && next?.Kind == SceneTokenKind.Mention:
                        // "one" is the article of phrasing 5's single shape, and says the image holds just that one.
                        if (opening && i == 0) statedCount ??= 1;
                        break;
                    case SceneTokenKind.Relation when previous?.Kind == SceneTokenKind.Mention && next?.Kind == SceneTokenKind.Mention:
                        relations.Add(new SceneRelation(previous.Value.Value, next.Value.Value, (SceneRelationKind)item.Value));
                        break;
                    case SceneTokenKind.Position when Place(previous, (SyntheticPosition)item.Value) || Place(next, (SyntheticPosition)item.Value):
                        break;
                    default:
                        unparsed.AddRange(item.Text.Split(' '));
                        break;
                }
            }
            opening = false;
        }

        return new ParsedSceneCaption(objects.AsReadOnly(), relations.AsReadOnly(), statedCount, unparsed.AsReadOnly());

        bool Place(SceneToken? mention, SyntheticPosition cell)
        {
            if (mention is not { Kind: SceneTokenKind.Mention, Value: var index } || objects[index].Position is not null) return false;
            objects[index] = objects[index] with { Position = cell };
            return true;
        }
    }

    /// <summary>
    /// The clause's tokens with each run of attribute words replaced by a <see cref="SceneTokenKind.Mention"/> of a
    /// new object in <paramref name="objects"/>, and "is" dropped once it has done its work.
    /// </summary>
    private static List<SceneToken> Mentions(List<SceneToken> clause, List<ParsedSceneObject> objects, List<string> unparsed)
    {
        var items = new List<SceneToken>(clause.Count);
        ParsedSceneObject? current = null;
        var words = new List<string>();
        var last = -1;
        for (var i = 0; i < clause.Count; i++)
        {
            var token = clause[i];
            if (!token.IsAttribute)
            {
                Close();
                if (token.Kind != SceneTokenKind.Is) items.Add(token);
                continue;
            }

            var predicate = token.Kind == SceneTokenKind.Size && i > 0 && clause[i - 1].Kind == SceneTokenKind.Is
                && (i + 1 == clause.Count || !clause[i + 1].IsAttribute || clause[i + 1].Kind == SceneTokenKind.Size);
            if (predicate && last >= 0 && objects[last].Size is null)
            {
                objects[last] = objects[last] with { Size = (SyntheticSize)token.Value };
                continue;
            }

            current ??= new ParsedSceneObject(null, null, null, null);
            if (current.Shape is not null || Holds(current, token.Kind))
            {
                Close();
                current = new ParsedSceneObject(null, null, null, null);
            }
            current = token.Kind switch
            {
                SceneTokenKind.Size => current with { Size = (SyntheticSize)token.Value },
                SceneTokenKind.Color => current with { Color = token.Text },
                _ => current with { Shape = (SyntheticShape)token.Value },
            };
            words.Add(token.Text);
        }
        Close();
        return items;

        void Close()
        {
            if (current is null) return;
            if (current.Shape is null && current.Color is null)
            {
                unparsed.AddRange(words);
            }
            else
            {
                objects.Add(current);
                last = objects.Count - 1;
                items.Add(new SceneToken(SceneTokenKind.Mention, last, string.Join(' ', words)));
            }
            current = null;
            words.Clear();
        }

        static bool Holds(ParsedSceneObject item, SceneTokenKind attribute) => attribute switch
        {
            SceneTokenKind.Size => item.Size is not null,
            SceneTokenKind.Color => item.Color is not null,
            _ => item.Shape is not null,
        };
    }

    private static IEnumerable<List<SceneToken>> Clauses(List<SceneToken> tokens)
    {
        var clause = new List<SceneToken>();
        foreach (var token in tokens)
        {
            if (token.Kind != SceneTokenKind.Separator)
            {
                clause.Add(token);
                continue;
            }
            if (clause.Count > 0) yield return clause;
            clause = [];
        }
        if (clause.Count > 0) yield return clause;
    }

    private List<SceneToken> Tokenize(string caption)
    {
        var words = Words(caption);
        var tokens = new List<SceneToken>(words.Count);
        for (var i = 0; i < words.Count;)
        {
            if (MatchPhrase(words, i) is { } phrase)
            {
                tokens.Add(phrase.Token);
                i += phrase.Words.Length;
                continue;
            }

            if (PositionWords.Contains(words[i]))
            {
                var end = i;
                while (end < words.Count && PositionWords.Contains(words[end])) end++;
                var run = words.GetRange(i, end - i);
                var text = string.Join(' ', run);
                tokens.Add(Cell(run) is { } cell ? new SceneToken(SceneTokenKind.Position, (int)cell, text) : new SceneToken(SceneTokenKind.Unparsed, 0, text));
                i = end;
                continue;
            }

            if (vocabulary.TryGetValue(words[i], out var token)) tokens.Add(token);
            else if (!fillerWords.Contains(words[i])) tokens.Add(new SceneToken(SceneTokenKind.Unparsed, 0, words[i]));
            i++;
        }
        return tokens;
    }

    /// <summary>Lower-cased runs of letters and digits, with each comma a word of its own.</summary>
    private static List<string> Words(string caption)
    {
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= caption.Length; i++)
        {
            var c = i < caption.Length ? caption[i] : ' ';
            if (char.IsLetterOrDigit(c))
            {
                if (start < 0) start = i;
                continue;
            }
            if (start >= 0) words.Add(caption[start..i].ToLowerInvariant());
            start = -1;
            if (c == ',') words.Add(",");
        }
        return words;
    }

    private static (string[] Words, SceneToken Token)? MatchPhrase(List<string> words, int start)
    {
        foreach (var phrase in Phrases)
        {
            if (start + phrase.Words.Length > words.Count) continue;
            var matches = true;
            for (var k = 0; k < phrase.Words.Length && matches; k++) matches = words[start + k] == phrase.Words[k];
            if (matches) return phrase;
        }
        return null;
    }

    /// <summary>The cell a run of position words names: a row word, a column word, both, or "center"/"middle" alone.</summary>
    private static SyntheticPosition? Cell(List<string> run)
    {
        int? row = null, column = null;
        var center = false;
        foreach (var word in run)
        {
            (int? newRow, int? newColumn) = word switch
            {
                "top" => ((int?)0, (int?)null),
                "bottom" => (2, null),
                "left" => (null, 0),
                "right" => (null, 2),
                _ => (null, null),
            };
            center |= newRow is null && newColumn is null;
            if (newRow is not null && row is not null && row != newRow) return null;
            if (newColumn is not null && column is not null && column != newColumn) return null;
            row ??= newRow;
            column ??= newColumn;
        }
        if (center) return row is null && column is null ? SyntheticPosition.Center : null;
        return (SyntheticPosition)(((row ?? 1) * 3) + (column ?? 1));
    }

    private static (string[] Words, SceneToken Token)[] BuildPhrases()
    {
        var phrases = new List<(string Text, SceneToken Token)>
        {
            (CaptionGrammar.RightOf, new(SceneTokenKind.Relation, (int)SceneRelationKind.RightOf, CaptionGrammar.RightOf)),
            (CaptionGrammar.Below, new(SceneTokenKind.Relation, (int)SceneRelationKind.Below, CaptionGrammar.Below)),
            ("to the left of", new(SceneTokenKind.Relation, (int)SceneRelationKind.LeftOf, "to the left of")),
            ("above", new(SceneTokenKind.Relation, (int)SceneRelationKind.Above, "above")),
        };
        foreach (var table in new[] { CaptionGrammar.PositionPhrases, CaptionGrammar.AlternativePositionPhrases })
            for (var cell = 0; cell < table.Count; cell++)
                phrases.Add((table[cell], new(SceneTokenKind.Position, cell, table[cell])));
        return phrases
            .Select(p => (Words: p.Text.Split(' '), p.Token))
            .OrderByDescending(p => p.Words.Length)
            .ToArray();
    }
}

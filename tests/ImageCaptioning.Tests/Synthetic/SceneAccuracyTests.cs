using ImageCaptioning.Synthetic;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

/// <summary>
/// The scene metric against the generator: the grammar's own captions parse back to exactly the scenes drawn, and
/// captions with known mistakes lose exactly the scores those mistakes touch.
/// </summary>
[TestFixture]
public sealed class SceneAccuracyTests
{
    private static readonly SyntheticColor[] Palette = [SyntheticColor.Red, SyntheticColor.Blue, SyntheticColor.Green, SyntheticColor.Yellow];

    // What a model trained on cleaned captions writes: no single-letter words, no commas, no marks.
    private static readonly CaptionCleaner ModelVocabulary = new(CaptionCleaningOptions.Default with { StartMark = null, EndMark = null });

    private static IEnumerable<TestCaseData> OptionMixes()
    {
        const int Phrasings = SyntheticDatasetOptions.MaxCaptionsPerImage;
        yield return new TestCaseData(new SyntheticDatasetOptions { ImageCount = 500, CaptionsPerImage = Phrasings }).SetArgDisplayNames("defaults");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 500, Seed = 3, MinObjectCount = 4, MaxObjectCount = 9, CaptionsPerImage = Phrasings,
            Shapes = [SyntheticShape.Cross, SyntheticShape.Triangle], Colors = [SyntheticColor.Red, SyntheticColor.Blue, SyntheticColor.White, SyntheticColor.Black, SyntheticColor.Orange],
        }).SetArgDisplayNames("crowded, few kinds");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 500, Seed = 5, MinObjectCount = 2, MaxObjectCount = 2, CaptionsPerImage = Phrasings,
            Positions = [SyntheticPosition.Left, SyntheticPosition.Center, SyntheticPosition.Right],
        }).SetArgDisplayNames("pairs in one row");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 500, Seed = 6, MaxObjectCount = 2, CaptionsPerImage = Phrasings, Sizes = [SyntheticSize.Large],
            Positions = [SyntheticPosition.TopRight, SyntheticPosition.Right, SyntheticPosition.BottomRight],
        }).SetArgDisplayNames("one column, large only");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 500, Seed = -9, MaxObjectCount = 1, CaptionsPerImage = Phrasings, Sizes = [SyntheticSize.Small],
            Colors = [SyntheticColor.Red, SyntheticColor.Pink, SyntheticColor.Cyan, SyntheticColor.Brown], BackgroundColors = [SyntheticColor.Gray, SyntheticColor.White],
        }).SetArgDisplayNames("single shapes, other colours, small only");
    }

    [TestCaseSource(nameof(OptionMixes))]
    public void Every_phrasing_of_every_scene_parses_back_to_exactly_its_objects(SyntheticDatasetOptions options)
    {
        var images = new SyntheticCaptionedImages(options).Describe();
        var parser = new SceneCaptionParser(options.Colors);
        var problems = new List<string>();

        foreach (var image in images)
        {
            foreach (var caption in image.Captions.Concat(image.Captions.Select(c => ModelVocabulary.Clean(c)!)))
            {
                var parsed = parser.Parse(caption);
                var problem = Disagreement(parsed, image.Scene);
                if (problem is not null) problems.Add($"{image.ImageId} '{caption}': {problem}");
            }
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems.Take(20)));
    }

    [TestCaseSource(nameof(OptionMixes))]
    public void The_grammars_captions_score_one_on_every_measure(SyntheticDatasetOptions options)
    {
        var generator = new SyntheticCaptionedImages(options);
        for (var phrasing = 0; phrasing < options.CaptionsPerImage; phrasing++)
        {
            var result = SceneAccuracy.Evaluate(generator.Describe().Select(i => (i.ImageId, ModelVocabulary.Clean(i.Captions[phrasing])!)), generator);

            Assert.That(Measures(result), Has.All.EqualTo(1.0), $"phrasing {phrasing}: {result}");
            Assert.That(result.UnparsedWords, Is.Zero, $"phrasing {phrasing}: {result}");
            Assert.That(result.GeneratedObjects, Is.EqualTo(result.TrueObjects));
        }
    }

    [Test]
    public void A_blind_caption_gets_few_scenes_right_and_the_result_reads_as_one_line()
    {
        var generator = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 300 });
        var images = generator.Describe();

        var result = SceneAccuracy.Evaluate(images.Select(i => (i.ImageId, images[0].Captions[0])), generator);

        TestContext.Out.WriteLine(result);
        Assert.That(result.WholeSceneAccuracy, Is.LessThan(0.05));
        Assert.That(result.ObjectRecall, Is.LessThan(0.1));
        Assert.That(result.Images, Has.Count.EqualTo(300));
        Assert.That(result.ToString(), Does.Match(@"^whole scenes 0\.\d{3} \(\d+/300\); objects P \d\.\d{3} R \d\.\d{3}; colour P \d\.\d{3} R \d\.\d{3}; shape .*; size .*; position .*; count \d\.\d{3}; unparsed words 0$"));
    }

    // Truth: a large red circle in the top left corner, a small blue square in the center.
    [TestCase("a large red circle in the top left corner and a small blue square in the center", 2, 2, 2, 2, 2, true, 0)]
    [TestCase("large green circle in the top left corner and small blue square in the center", 1, 2, 2, 2, 1, true, 0)]
    [TestCase("a large red star in the top left corner and a small blue square in the center", 2, 1, 2, 2, 1, true, 0)]
    [TestCase("a small red circle in the top left corner and a small blue square in the center", 2, 2, 1, 2, 1, true, 0)]
    [TestCase("a large red circle at the top and a small blue square in the center", 2, 2, 2, 1, 1, true, 0)]
    [TestCase("a large red circle in the top left corner", 1, 1, 1, 1, 1, false, 0)]
    [TestCase("three shapes, a large red circle in the top left corner and a small blue square in the center", 2, 2, 2, 2, 2, false, 0)]
    [TestCase("on the top left there is big red circle and in the middle there is little blue square banana", 2, 2, 2, 2, 2, true, 1)]
    [TestCase("red circle top left blue square center", 2, 2, 0, 2, 0, true, 0)]
    [TestCase("", 0, 0, 0, 0, 0, false, 0)]
    public void A_wrong_caption_loses_what_its_mistake_touches(
        string caption, int colours, int shapes, int sizes, int positions, int rightObjects, bool countRight, int unparsed)
    {
        var scene = Scene(
            Item(SyntheticShape.Circle, SyntheticColor.Red, SyntheticSize.Large, SyntheticPosition.TopLeft),
            Item(SyntheticShape.Square, SyntheticColor.Blue, SyntheticSize.Small, SyntheticPosition.Center));

        var score = Score(caption, scene);

        Assert.Multiple(() =>
        {
            Assert.That(score.Color.Correct, Is.EqualTo(colours), "colour");
            Assert.That(score.Shape.Correct, Is.EqualTo(shapes), "shape");
            Assert.That(score.Size.Correct, Is.EqualTo(sizes), "size");
            Assert.That(score.Position.Correct, Is.EqualTo(positions), "position");
            Assert.That(score.RightObjects, Is.EqualTo(rightObjects), "objects");
            Assert.That(score.CountRight, Is.EqualTo(countRight), "count");
            Assert.That(score.UnparsedWords, Is.EqualTo(unparsed), "unparsed");
            Assert.That(score.SceneRight, Is.EqualTo(rightObjects == 2 && countRight));
            Assert.That(score.Color.Present, Is.EqualTo(2));
        });
    }

    [Test]
    public void Precision_counts_what_a_caption_states_and_recall_what_the_image_holds()
    {
        var scene = Scene(
            Item(SyntheticShape.Circle, SyntheticColor.Red, SyntheticSize.Large, SyntheticPosition.TopLeft),
            Item(SyntheticShape.Square, SyntheticColor.Blue, SyntheticSize.Small, SyntheticPosition.Center));

        var extra = Score("a large red circle in the top left corner, a small blue square in the center and a small yellow star at the bottom", scene);
        var vague = Score("a red circle in the top left corner and a blue square in the center", scene);

        Assert.Multiple(() =>
        {
            Assert.That((extra.GeneratedObjects, extra.RightObjects, extra.CountRight, extra.SceneRight), Is.EqualTo((3, 2, false, false)));
            Assert.That((extra.Color.Precision, extra.Color.Recall), Is.EqualTo((2.0 / 3, 1.0)));
            Assert.That((vague.Size.Stated, vague.Size.Precision, vague.Size.Recall), Is.EqualTo((0, 0.0, 0.0)));
            Assert.That((vague.Shape.Precision, vague.Shape.Recall, vague.RightObjects), Is.EqualTo((1.0, 1.0, 0)));
        });
    }

    [TestCase("a small blue square to the right of a large red circle", 2)]
    [TestCase("a large red circle to the left of a small blue square", 2)]
    [TestCase("a large red circle to the right of a small blue square", 0)]
    [TestCase("a small blue square below a large red circle", 0)]
    public void A_relation_places_both_objects_when_their_cells_bear_it_out(string caption, int positions)
    {
        var scene = Scene(
            Item(SyntheticShape.Circle, SyntheticColor.Red, SyntheticSize.Large, SyntheticPosition.BottomLeft),
            Item(SyntheticShape.Square, SyntheticColor.Blue, SyntheticSize.Small, SyntheticPosition.BottomRight));

        var score = Score(caption, scene);

        Assert.That((score.Position.Stated, score.Position.Correct, score.RightObjects), Is.EqualTo((2, positions, positions)));
        Assert.That((score.Color.Correct, score.Shape.Correct, score.Size.Correct), Is.EqualTo((2, 2, 2)));
    }

    [Test]
    public void Matching_is_one_to_one_and_a_named_cell_claims_its_object_first()
    {
        var scene = Scene(
            Item(SyntheticShape.Circle, SyntheticColor.Red, SyntheticSize.Large, SyntheticPosition.Left),
            Item(SyntheticShape.Square, SyntheticColor.Blue, SyntheticSize.Small, SyntheticPosition.Right));
        var parsed = new SceneCaptionParser(Palette).Parse("a large red circle on the right, a large red circle and a green star on the left and a yellow cross");

        var match = SceneScorer.Match(parsed.Objects, scene.Objects);

        // By cell: the circle said to be on the right takes the square, the star on the left the circle, although
        // the plain circle agrees with it in everything; then nothing is left for the plain circle or the cross.
        Assert.That(match, Is.EqualTo(new[] { 1, -1, 0, -1 }));
    }

    [Test]
    public void Bad_input_is_refused_naming_the_image()
    {
        var generator = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 10 });
        var id = generator.Describe()[0].ImageId;

        Assert.Multiple(() =>
        {
            Assert.That(() => SceneAccuracy.Evaluate([], generator), Throws.ArgumentException.With.Message.Contains("no captions"));
            Assert.That(() => SceneAccuracy.Evaluate([(id, "a"), (id, "b")], generator), Throws.ArgumentException.With.Message.Contains(id));
            Assert.That(() => SceneAccuracy.Evaluate([(id, null!)], generator), Throws.ArgumentException.With.Message.Contains(id));
            Assert.That(() => SceneAccuracy.Evaluate([("nope.jpg", "a")], generator), Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("nope.jpg"));
        });
    }

    [Test]
    public void A_written_dataset_scores_its_own_captions_from_its_scenes()
    {
        using var dir = new ImageCaptioning.Testing.TempDirectory();
        var dataset = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 20, ImageSize = 32 }).Generate(dir.File("data"));

        var result = SceneAccuracy.Evaluate(dataset.Images.Select(i => (i.ImageId, i.Captions[3])), dataset);

        Assert.That(Measures(result), Has.All.EqualTo(1.0), result.ToString());
    }

    private static double[] Measures(SceneAccuracyResult r) =>
    [
        r.WholeSceneAccuracy, r.ObjectPrecision, r.ObjectRecall, r.CountAccuracy,
        r.Color.Precision, r.Color.Recall, r.Shape.Precision, r.Shape.Recall,
        r.Size.Precision, r.Size.Recall, r.Position.Precision, r.Position.Recall,
    ];

    /// <summary>Null when <paramref name="parsed"/> holds exactly the scene's objects, else what differs.</summary>
    private static string? Disagreement(ParsedSceneCaption parsed, SyntheticScene scene)
    {
        if (parsed.UnparsedWords.Count > 0) return $"unparsed: {string.Join(' ', parsed.UnparsedWords)}";
        if (parsed.StatedCount is { } stated && stated != scene.Objects.Count) return $"states {stated} shapes";
        static string Facts(SyntheticShape? shape, string? color, SyntheticSize? size) => $"{size} {color} {shape}";
        var truth = scene.Objects.Select(o => Facts(o.Shape, o.Color.Name, o.Size)).Order().ToArray();
        var read = parsed.Objects.Select(o => Facts(o.Shape, o.Color, o.Size)).Order().ToArray();
        if (!read.SequenceEqual(truth)) return $"read [{string.Join("; ", read)}]";

        var cellOf = scene.Objects.ToDictionary(o => Facts(o.Shape, o.Color.Name, o.Size), o => o.Position);
        var cells = parsed.Objects.Select(o => cellOf[Facts(o.Shape, o.Color, o.Size)]).ToArray();
        for (var i = 0; i < parsed.Objects.Count; i++)
        {
            var placed = parsed.Relations.Any(r => r.Subject == i || r.Reference == i);
            if (parsed.Objects[i].Position is { } cell ? cell != cells[i] : !placed) return $"object {i} placed at {parsed.Objects[i].Position}";
        }
        foreach (var relation in parsed.Relations)
            if (!relation.Holds(cells[relation.Subject], cells[relation.Reference])) return $"relation {relation} does not hold";
        return null;
    }

    private static SceneImageAccuracy Score(string caption, SyntheticScene scene) =>
        SceneScorer.Score("image.jpg", caption, new SceneCaptionParser(Palette).Parse(caption), scene);

    private static SyntheticScene Scene(params SyntheticObject[] objects) => new(96, SyntheticColor.Gray, objects);

    private static SyntheticObject Item(SyntheticShape shape, SyntheticColor color, SyntheticSize size, SyntheticPosition position) =>
        new(shape, color, size, position, (((int)position % 3) + 0.5) * 32, (((int)position / 3) + 0.5) * 32, size == SyntheticSize.Large ? 13 : 8);
}

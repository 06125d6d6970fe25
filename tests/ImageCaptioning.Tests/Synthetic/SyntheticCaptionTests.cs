using ImageCaptioning.Evaluation;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

/// <summary>Scenes and captions, computed without writing anything.</summary>
[TestFixture]
public sealed class SyntheticCaptionTests
{
    private static IEnumerable<TestCaseData> OptionVariants()
    {
        yield return new TestCaseData(new SyntheticDatasetOptions { ImageCount = 1500, CaptionsPerImage = SyntheticDatasetOptions.MaxCaptionsPerImage })
            .SetArgDisplayNames("defaults, all phrasings");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 800, Seed = 7, MinObjectCount = 2, MaxObjectCount = 5, CaptionsPerImage = SyntheticDatasetOptions.MaxCaptionsPerImage,
            Shapes = [SyntheticShape.Circle, SyntheticShape.Star], Colors = [SyntheticColor.Red, SyntheticColor.Blue, SyntheticColor.White],
        }).SetArgDisplayNames("crowded, few kinds");
        yield return new TestCaseData(new SyntheticDatasetOptions
        {
            ImageCount = 500, Seed = -3, MaxObjectCount = 2, CaptionsPerImage = SyntheticDatasetOptions.MaxCaptionsPerImage,
            Positions = [SyntheticPosition.Left, SyntheticPosition.Center, SyntheticPosition.Right],
            BackgroundColors = [SyntheticColor.Gray, SyntheticColor.Cyan],
        }).SetArgDisplayNames("one row, two backgrounds");
    }

    [TestCaseSource(nameof(OptionVariants))]
    public void Every_caption_states_only_facts_of_its_scene_and_mentions_every_object(SyntheticDatasetOptions options)
    {
        var images = new SyntheticCaptionedImages(options).Describe();

        var problems = images
            .SelectMany(image => image.Captions.SelectMany(caption =>
                CaptionFactChecker.Check(caption, image.Scene, options.Colors).Select(p => $"{image.ImageId} '{caption}': {p}")))
            .ToList();

        Assert.That(problems, Is.Empty, string.Join("\n", problems.Take(20)));
        Assert.That(images.Select(i => i.Captions.Count), Has.All.EqualTo(options.CaptionsPerImage));
        Assert.That(images.All(i => i.Captions.Distinct().Count() == i.Captions.Count), Is.True, "the phrasings of an image differ");
    }

    [Test]
    public void The_fact_checker_catches_captions_of_other_scenes()
    {
        // Guards the test above against a checker that accepts anything.
        var options = new SyntheticDatasetOptions { ImageCount = 300 };
        var images = new SyntheticCaptionedImages(options).Describe();

        var pairs = 0;
        for (var i = 0; i + 1 < images.Count; i++)
        {
            var (own, other) = (images[i], images[i + 1]);
            if (own.Scene.ToString() == other.Scene.ToString()) continue;
            pairs++;
            foreach (var caption in other.Captions)
                Assert.That(CaptionFactChecker.Check(caption, own.Scene, options.Colors), Is.Not.Empty, $"'{caption}' accepted for {own.Scene}");
        }
        Assert.That(pairs, Is.GreaterThan(250));
    }

    [Test]
    public void Scenes_respect_the_options_and_keep_shapes_inside_distinct_cells()
    {
        var options = new SyntheticDatasetOptions { ImageCount = 400, ImageSize = 150, MinObjectCount = 2, MaxObjectCount = 4 };
        var cell = options.ImageSize / 3.0;

        foreach (var image in new SyntheticCaptionedImages(options).Describe())
        {
            var objects = image.Scene.Objects;
            Assert.That(objects, Has.Count.InRange(2, 4));
            Assert.That(objects.Select(o => o.Position), Is.Unique.And.Ordered, "distinct cells in reading order");
            Assert.That(objects.Select(o => (o.Shape, o.Color.Name)), Is.Unique, "shapes of one image differ in kind or colour");
            foreach (var o in objects)
            {
                Assert.That(o.CenterX - o.Radius, Is.GreaterThanOrEqualTo(o.Column * cell));
                Assert.That(o.CenterX + o.Radius, Is.LessThanOrEqualTo((o.Column + 1) * cell));
                Assert.That(o.CenterY - o.Radius, Is.GreaterThanOrEqualTo(o.Row * cell));
                Assert.That(o.CenterY + o.Radius, Is.LessThanOrEqualTo((o.Row + 1) * cell));
            }
            Assert.That(objects.Where(o => o.Size == SyntheticSize.Large).Select(o => o.Radius),
                Has.All.GreaterThan(objects.Where(o => o.Size == SyntheticSize.Small).Select(o => o.Radius).DefaultIfEmpty(0).Max() * 1.5));
        }
    }

    [Test]
    public void Two_hundred_images_cover_every_colour_shape_size_position_and_count()
    {
        var options = new SyntheticDatasetOptions { ImageCount = 200, BackgroundColors = [SyntheticColor.Gray, SyntheticColor.Brown] };
        var images = new SyntheticCaptionedImages(options).Describe();
        var objects = images.SelectMany(i => i.Scene.Objects).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(objects.Select(o => o.Color).Distinct(), Is.EquivalentTo(options.Colors));
            Assert.That(objects.Select(o => o.Shape).Distinct(), Is.EquivalentTo(Enum.GetValues<SyntheticShape>()));
            Assert.That(objects.Select(o => o.Size).Distinct(), Is.EquivalentTo(Enum.GetValues<SyntheticSize>()));
            Assert.That(objects.Select(o => o.Position).Distinct(), Is.EquivalentTo(Enum.GetValues<SyntheticPosition>()));
            Assert.That(images.Select(i => i.Scene.Objects.Count).Distinct(), Is.EquivalentTo(new[] { 1, 2, 3 }));
            Assert.That(images.Select(i => i.Scene.Background).Distinct(), Is.EquivalentTo(options.BackgroundColors));
            Assert.That(images.Select(i => i.Scene.ToString()).Distinct().Count(), Is.GreaterThan(195), "scenes rarely repeat");
        });
    }

    [Test]
    public void The_same_seed_gives_the_same_scenes_and_captions_and_another_seed_does_not()
    {
        var options = new SyntheticDatasetOptions { ImageCount = 100, Seed = 11 };
        static string[] Flatten(IReadOnlyList<SyntheticImage> images) =>
            images.SelectMany(i => i.Captions.Prepend(i.Scene.ToString()).Prepend(i.ImageId)).ToArray();

        var first = Flatten(new SyntheticCaptionedImages(options).Describe());
        var second = Flatten(new SyntheticCaptionedImages(options with { }).Describe());
        var reseeded = Flatten(new SyntheticCaptionedImages(options with { Seed = 12 }).Describe());

        Assert.That(second, Is.EqualTo(first));
        Assert.That(reseeded.Count(c => Array.IndexOf(first, c) < 0), Is.GreaterThan(200));
    }

    [Test]
    public void A_larger_image_count_extends_the_dataset_without_changing_its_first_images()
    {
        var small = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 40 }).Describe();
        var large = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 100 }).Describe();

        Assert.That(large.Take(40).Select(i => (i.ImageId, i.Scene.ToString(), string.Join("|", i.Captions))),
            Is.EqualTo(small.Select(i => (i.ImageId, i.Scene.ToString(), string.Join("|", i.Captions)))));
    }

    [Test]
    public void Cleaning_keeps_every_caption_and_the_vocabulary_is_small()
    {
        var options = new SyntheticDatasetOptions { ImageCount = 1000, CaptionsPerImage = SyntheticDatasetOptions.MaxCaptionsPerImage };
        var images = new SyntheticCaptionedImages(options).Describe();
        var corpus = CaptionCorpus.Create(images.SelectMany(i => i.Captions.Select(c => new ImageCaption(i.ImageId, c))));

        var cleaned = new CaptionCleaner().Clean(corpus);

        Assert.That(cleaned.EmptyCaptionsDropped, Is.Zero);
        Assert.That(cleaned.ImagesDropped, Is.Zero);
        Assert.That(cleaned.Corpus.CaptionCount, Is.EqualTo(1000 * options.CaptionsPerImage));
        var words = cleaned.Corpus.Entries().SelectMany(e => e.Caption.Split(' ')).Where(w => w is not ("startseq" or "endseq")).ToHashSet();
        TestContext.Out.WriteLine($"{words.Count} words: {string.Join(' ', words.Order())}");
        Assert.That(words.Count, Is.InRange(40, 80));
        var lengths = cleaned.Corpus.Entries().Select(e => e.Caption.Split(' ').Length).ToArray();
        TestContext.Out.WriteLine($"cleaned caption length: mean {lengths.Average():F1}, max {lengths.Max()} tokens with marks");
    }

    [Test]
    public void A_model_giving_the_canonical_caption_scores_high_BLEU_against_the_other_phrasings_and_a_blind_one_does_not()
    {
        var images = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 500 }).Describe();

        // Leave-one-out: the first (canonical) caption scored against the other four only, a lower bound on what a
        // model that learned the canonical phrasing scores against all five.
        var perfect = CaptionMetrics.Evaluate(images.Select(i => (i.ImageId, i.Captions[0], (IReadOnlyList<string>)i.Captions.Skip(1).ToArray())));
        // The same caption for every image: what a model that ignores the image can at best approach.
        var blind = CaptionMetrics.Evaluate(images.Select(i => (i.ImageId, images[0].Captions[0], (IReadOnlyList<string>)i.Captions.Skip(1).ToArray())));

        TestContext.Out.WriteLine($"canonical vs other phrasings: BLEU-4 {perfect.Bleu.Score(4):F3}, CIDEr-D {perfect.CiderD:F3}; constant caption: BLEU-4 {blind.Bleu.Score(4):F3}, CIDEr-D {blind.CiderD:F3}");
        Assert.That(perfect.Bleu.Score(4), Is.GreaterThan(0.5));
        Assert.That(perfect.Bleu.Score(4) - blind.Bleu.Score(4), Is.GreaterThan(0.3));
    }
}

using ImageCaptioning.Synthetic;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

[TestFixture]
public sealed class SyntheticDatasetOptionsTests
{
    private static IEnumerable<TestCaseData> InvalidSettings()
    {
        TestCaseData Case(string setting, Func<SyntheticDatasetOptions> create) => new TestCaseData(setting, create).SetArgDisplayNames(setting);
        yield return Case("ImageCount", () => new() { ImageCount = 0 });
        yield return Case("ImageSize", () => new() { ImageSize = 16 });
        yield return Case("ImageSize", () => new() { ImageSize = 5000 });
        yield return Case("CaptionsPerImage", () => new() { CaptionsPerImage = 0 });
        yield return Case("CaptionsPerImage", () => new() { CaptionsPerImage = SyntheticDatasetOptions.MaxCaptionsPerImage + 1 });
        yield return Case("JpegQuality", () => new() { JpegQuality = 101 });
        yield return Case("MinObjectCount", () => new() { MinObjectCount = 0 });
        yield return Case("MaxObjectCount", () => new() { MaxObjectCount = 10 });
        yield return Case("Shapes", () => new() { Shapes = [] });
        yield return Case("Shapes", () => new() { Shapes = [SyntheticShape.Star, SyntheticShape.Star] });
        yield return Case("Shapes", () => new() { Shapes = [(SyntheticShape)42] });
        yield return Case("Colors", () => new() { Colors = null! });
        yield return Case("Colors", () => new() { Colors = [SyntheticColor.Red, new SyntheticColor("red", 1, 2, 3)] });
        yield return Case("BackgroundColors", () => new() { BackgroundColors = [] });
        yield return Case("Sizes", () => new() { Sizes = [] });
        yield return Case("Positions", () => new() { Positions = [SyntheticPosition.Left, SyntheticPosition.Left] });
        yield return Case("ImageIdPrefix", () => new() { ImageIdPrefix = "a,b" });
        yield return Case("ImageIdPrefix", () => new() { ImageIdPrefix = "" });
    }

    [TestCaseSource(nameof(InvalidSettings))]
    public void An_invalid_setting_throws_naming_it(string setting, Func<SyntheticDatasetOptions> create)
    {
        var exception = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => create());
        Assert.That(((ArgumentException)exception!).ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain(setting));
    }

    private static IEnumerable<TestCaseData> ConflictingSettings()
    {
        TestCaseData Case(string named, SyntheticDatasetOptions options) => new TestCaseData(named, options).SetArgDisplayNames(named);
        yield return Case("MinObjectCount", new() { MinObjectCount = 3, MaxObjectCount = 2 });
        yield return Case("Positions", new() { MaxObjectCount = 3, Positions = [SyntheticPosition.Left, SyntheticPosition.Right] });
        yield return Case("Colors", new() { MaxObjectCount = 3, Shapes = [SyntheticShape.Circle], Colors = [SyntheticColor.Red, SyntheticColor.Blue] });
        yield return Case("BackgroundColors", new() { BackgroundColors = [SyntheticColor.White] });
        yield return Case("BackgroundColors", new() { BackgroundColors = [new SyntheticColor("grey", 130, 60, 170)] });
        yield return Case("Colors", new() { Colors = [SyntheticColor.Red, new SyntheticColor("crimson", 200, 20, 40)] });
        yield return Case("Colors", new() { Colors = [SyntheticColor.Red, new SyntheticColor("left", 20, 20, 240)] });
    }

    [TestCaseSource(nameof(ConflictingSettings))]
    public void Conflicting_settings_are_rejected_when_the_generator_is_created(string named, SyntheticDatasetOptions options)
    {
        Assert.That(() => new SyntheticCaptionedImages(options),
            Throws.ArgumentException.With.Message.Contains(named).And.Message.Contains(nameof(SyntheticDatasetOptions)));
    }

    [TestCase("")]
    [TestCase("r")]
    [TestCase("Red")]
    [TestCase("dark red")]
    [TestCase("red2")]
    public void A_colour_name_must_be_one_lower_case_word(string name)
    {
        Assert.That(() => new SyntheticColor(name, 1, 2, 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("name"));
    }

    [Test]
    public void The_defaults_are_valid_and_as_documented()
    {
        var options = SyntheticDatasetOptions.Default;

        Assert.That(() => new SyntheticCaptionedImages(), Throws.Nothing);
        Assert.That((options.ImageCount, options.ImageSize, options.CaptionsPerImage, options.MinObjectCount, options.MaxObjectCount),
            Is.EqualTo((1000, 224, 5, 1, 3)));
        Assert.That(options.Colors.Select(c => c.Name), Is.EqualTo(new[] { "red", "green", "blue", "yellow", "white", "black", "purple", "orange" }));
    }

    [Test]
    public void Lists_are_copied_so_later_changes_to_the_caller_array_do_not_leak_in()
    {
        var shapes = new[] { SyntheticShape.Circle, SyntheticShape.Square };
        var options = new SyntheticDatasetOptions { Shapes = shapes };
        shapes[0] = SyntheticShape.Star;

        Assert.That(options.Shapes, Is.EqualTo(new[] { SyntheticShape.Circle, SyntheticShape.Square }));
    }
}

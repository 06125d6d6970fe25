using System.Text;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

public sealed class CaptionReaderJsonTests
{
    private TempDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TempDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    private string Write(string content, bool bom = false)
    {
        var path = directory.File("captions.json");
        File.WriteAllText(path, content, new UTF8Encoding(bom));
        return path;
    }

    [Test]
    public void CocoKeepsImageOrderAndAnnotationOrder()
    {
        var path = Write("""
            {
              "info": {"year": 2017, "nested": [1, {"a": 2}]},
              "annotations": [
                {"image_id": 9, "id": 1, "caption": "A cat, on a \"mat\"."},
                {"image_id": 7, "id": 2, "caption": "A man rides a horse."},
                {"image_id": 9, "id": 3, "caption": "A sleepy cat."}
              ],
              "images": [
                {"id": 7, "file_name": "000000000007.jpg", "width": 640},
                {"id": 8, "file_name": "000000000008.jpg"},
                {"id": 9, "file_name": "000000000009.jpg"}
              ]
            }
            """, bom: true);

        var corpus = CaptionReader.ReadCoco(path);

        Assert.That(corpus.ImageIds, Is.EqualTo(new[] { "000000000007.jpg", "000000000009.jpg" }));
        Assert.That(corpus["000000000009.jpg"], Is.EqualTo(new[] { "A cat, on a \"mat\".", "A sleepy cat." }));
    }

    [Test]
    public void CocoWithoutImagesUsesNumericIds()
    {
        var path = Write("""{"annotations": [{"image_id": 3, "caption": "x"}, {"image_id": 1, "caption": "y"}]}""");
        Assert.That(CaptionReader.ReadCoco(path).ImageIds, Is.EqualTo(new[] { "3", "1" }));
    }

    [TestCase("{\n\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}],\n\"annotations\": [\n{\"image_id\": 1, \"caption\": \"ok\"},\n  {\"image_id\": 2, \"caption\": \"who?\"}\n]}", 5, "image_id 2")]
    [TestCase("{\"annotations\": [\n{\"image_id\": 1,\n \"caption\": 5}]}", 3, "'caption' must be a string")]
    [TestCase("{\"annotations\": [\n{\"image_id\": 1},\n{\"image_id\": 1, \"caption\": \"x\"}]}", 2, "no 'caption'")]
    [TestCase("{\"annotations\": [\n{\"image_id\": 1, \"caption\": \"x\"}\n\n{\"image_id\": 2}]}", 4, "invalid JSON")]
    [TestCase("[1, 2]", 1, "expected a JSON object")]
    public void CocoErrorsNameTheLine(string content, int line, string reason)
    {
        var path = Write(content);
        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadCoco(path))!;
        Assert.That(error.LineNumber, Is.EqualTo(line), error.Message);
        Assert.That(error.Message, Does.Contain(reason).And.Contain(path));
    }

    [Test]
    public void KarpathyReadsSplitsAndRawSentences()
    {
        var path = Write("""
            {"images": [
              {"filepath": "val2014", "filename": "a.jpg", "imgid": 0, "split": "train",
               "sentences": [{"tokens": ["a", "dog"], "raw": "A dog, running.", "imgid": 0, "sentid": 0}, {"raw": "A dog."}]},
              {"filename": "b.jpg", "split": "test", "sentences": [{"raw": "A cat."}]},
              {"filename": "c.jpg", "split": "restval", "sentences": [{"raw": "A bird."}]},
              {"filename": "d.jpg", "split": "val", "sentences": [{"raw": "A fish."}]}
            ], "dataset": "coco"}
            """);

        var splits = CaptionReader.ReadKarpathy(path);

        Assert.That(splits.Corpus["a.jpg"], Is.EqualTo(new[] { "A dog, running.", "A dog." }));
        Assert.That(splits.SplitNames, Is.EqualTo(new[] { "train", "test", "restval", "val" }));
        Assert.That(splits.SplitOf("b.jpg"), Is.EqualTo("test"));
        Assert.That(splits.Split("train", "restval").ImageIds, Is.EqualTo(new[] { "a.jpg", "c.jpg" }));
        Assert.That(splits.Split("val").ImageIds, Is.EqualTo(new[] { "d.jpg" }));
    }

    [TestCase("{\"images\": [\n{\"filename\": \"a.jpg\", \"split\": \"train\", \"sentences\": [\n  {\"tokens\": []}]}]}", 3, "no 'raw'")]
    [TestCase("{\"images\": [\n{\"filename\": \"a.jpg\", \"sentences\": []}]}", 2, "no 'split'")]
    [TestCase("{\"images\": [\n{\"filename\": \"a.jpg\", \"split\": \"x\", \"sentences\": []},\n{\"filename\": \"a.jpg\", \"split\": \"x\", \"sentences\": []}]}", 3, "twice")]
    [TestCase("{\"dataset\": \"flickr8k\"}", 1, "no 'images'")]
    public void KarpathyErrorsNameTheLine(string content, int line, string reason)
    {
        var path = Write(content);
        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadKarpathy(path))!;
        Assert.That(error.LineNumber, Is.EqualTo(line), error.Message);
        Assert.That(error.Message, Does.Contain(reason));
    }
}

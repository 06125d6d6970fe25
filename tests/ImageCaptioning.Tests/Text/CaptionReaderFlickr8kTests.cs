using System.Text;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Text;

public sealed class CaptionReaderFlickr8kTests
{
    private TempDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TempDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    private string Write(string name, string content, bool bom = false)
    {
        var path = directory.File(name);
        File.WriteAllText(path, content, new UTF8Encoding(bom));
        return path;
    }

    [Test]
    public void CsvReadsQuotesCommasCrlfAndBom()
    {
        var path = Write("captions.txt",
            "image,caption\r\n" +
            "a.jpg,A dog runs .\r\n" +
            "a.jpg,\"A dog, brown and white, runs .\"\r\n" +
            "b.jpg,\"She said \"\"hi\"\" , then left\"\r\n" +
            "\r\n" +
            "b.jpg,\"two\r\nlines\"\r\n" +
            "a.jpg,Unquoted, with a comma\r\n" +
            "c.jpg,\r\n", bom: true);

        var corpus = CaptionReader.ReadFlickr8kCsv(path);

        Assert.That(corpus.ImageIds, Is.EqualTo(new[] { "a.jpg", "b.jpg", "c.jpg" }));
        Assert.That(corpus["a.jpg"], Is.EqualTo(new[] { "A dog runs .", "A dog, brown and white, runs .", "Unquoted, with a comma" }));
        Assert.That(corpus["b.jpg"], Is.EqualTo(new[] { "She said \"hi\" , then left", "two\r\nlines" }));
        Assert.That(corpus["c.jpg"], Is.EqualTo(new[] { "" }));
        Assert.That(corpus.CaptionCount, Is.EqualTo(6));
    }

    [Test]
    public void CsvWithoutTrailingNewlineAndLfEndings()
    {
        var path = Write("captions.txt", "Image,Caption\nx.jpg,one\nx.jpg,\"two\"");
        Assert.That(CaptionReader.ReadFlickr8kCsv(path)["x.jpg"], Is.EqualTo(new[] { "one", "two" }));
    }

    [TestCase("image;caption\na.jpg,x\n", 1, "header")]
    [TestCase("image,caption\na.jpg,x\nb.jpg\n", 3, "two columns")]
    [TestCase("image,caption\na.jpg,x\n\nb.jpg,\"open\nstill open\n", 4, "not closed")]
    [TestCase("image,caption\r\na.jpg,\"closed\" junk\r\n", 2, "after the closing quote")]
    [TestCase("image,caption\na.jpg,\"multi\nline\"\n ,orphan\n", 4, "image column is empty")]
    [TestCase("", 1, "empty")]
    public void CsvErrorsNameFileAndLine(string content, int line, string reason)
    {
        var path = Write("captions.txt", content);
        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadFlickr8kCsv(path))!;
        Assert.That(error.FilePath, Is.EqualTo(path));
        Assert.That(error.LineNumber, Is.EqualTo(line));
        Assert.That(error.Message, Does.StartWith($"{path}({line}): ").And.Contain(reason));
    }

    [Test]
    public void MissingFileIsReportedByName()
    {
        var path = directory.File("nope.txt");
        var error = Assert.Throws<FileNotFoundException>(() => CaptionReader.ReadFlickr8kCsv(path))!;
        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void TokenFileReadsNameHashIndexTabCaption()
    {
        var path = Write("Flickr8k.token.txt",
            "1000268201_693b08cb0e.jpg#0\tA child in a pink dress , climbing .\r\n" +
            "1000268201_693b08cb0e.jpg#1\tA girl going into a \"wooden\" building .\r\n" +
            "1001773457_577c3a7d70.jpg#0\tA black dog and a spotted dog are fighting\r\n", bom: true);

        var corpus = CaptionReader.ReadFlickr8kTokens(path);

        Assert.That(corpus.ImageIds, Is.EqualTo(new[] { "1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg" }));
        Assert.That(corpus["1000268201_693b08cb0e.jpg"][1], Is.EqualTo("A girl going into a \"wooden\" building ."));
    }

    [TestCase("a.jpg#0\tok\na.jpg#1 no tab\n", 2, "no tab")]
    [TestCase("a.jpg#0\tok\n\na.jpg#x\tbad index\n", 3, "name.jpg#k")]
    [TestCase("a.jpg\tno hash\n", 1, "name.jpg#k")]
    public void TokenFileErrorsNameTheLine(string content, int line, string reason)
    {
        var path = Write("tokens.txt", content);
        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadFlickr8kTokens(path))!;
        Assert.That(error.LineNumber, Is.EqualTo(line));
        Assert.That(error.Message, Does.Contain(reason).And.Contain(path));
    }

    [Test]
    public void ImageListIgnoresBlankLinesAndRejectsDuplicates()
    {
        var list = Write("Flickr_8k.trainImages.txt", "a.jpg\r\n\r\n b.jpg \r\n");
        Assert.That(CaptionReader.ReadImageList(list), Is.EqualTo(new[] { "a.jpg", "b.jpg" }));

        var duplicated = Write("dup.txt", "a.jpg\nb.jpg\na.jpg\n");
        var error = Assert.Throws<CaptionFormatException>(() => CaptionReader.ReadImageList(duplicated))!;
        Assert.That(error.LineNumber, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain("line 1"));
    }
}

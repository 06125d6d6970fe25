using System.IO.Compression;
using System.Xml.Linq;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> makes ImageCaptioning, ImageCaptioning.Torch and ImageCaptioning.Synthetic, each with its README,
/// license, XML docs and a symbol package. None carries a native library: the engine is TorchSharp, whose backend the
/// app chooses. The library's package holds the captioning library only: the synthetic data have their own.
/// </summary>
[TestFixture]
public sealed class PackageContentsTests
{
    private static string Version => PackedFeed.Version;
    private static string Built(string project, string file) =>
        Path.Combine(DotnetCommand.RepositoryRoot, "src", project, "bin", DotnetCommand.Configuration, "net10.0", file);

    [Test]
    public void PackMakesTheThreePackagesAndTheirSymbolPackages()
    {
        var files = Directory.GetFiles(PackedFeed.Path).Select(Path.GetFileName);

        Assert.That(files, Is.EquivalentTo(new[]
        {
            $"ImageCaptioning.{Version}.nupkg", $"ImageCaptioning.{Version}.snupkg",
            $"ImageCaptioning.Torch.{Version}.nupkg", $"ImageCaptioning.Torch.{Version}.snupkg",
            $"ImageCaptioning.Synthetic.{Version}.nupkg", $"ImageCaptioning.Synthetic.{Version}.snupkg",
        }));
    }

    [TestCase("ImageCaptioning", "T:ImageCaptioning.Pipeline.CaptionPipeline")]
    [TestCase("ImageCaptioning.Torch", "T:ImageCaptioning.Torch.Serialization.PthReader")]
    [TestCase("ImageCaptioning.Synthetic", "T:ImageCaptioning.Synthetic.SyntheticCaptionedImages")]
    public void EachPackageCarriesItsAssemblyXmlDocsReadmeAndLicense(string id, string documentedType)
    {
        using var package = Open($"{id}.{Version}.nupkg");

        Assert.That(Bytes(package, $"lib/net10.0/{id}.dll"), Is.EqualTo(File.ReadAllBytes(Built(id, id + ".dll"))));
        var docs = XDocument.Load(new MemoryStream(Bytes(package, $"lib/net10.0/{id}.xml")));
        Assert.That(docs.Descendants("member").Select(m => (string?)m.Attribute("name")), Does.Contain(documentedType));
        Assert.That(Bytes(package, "README.md"), Is.EqualTo(File.ReadAllBytes(Path.Combine(DotnetCommand.RepositoryRoot, "README.md"))));
        Assert.That(Bytes(package, "LICENSE"), Is.EqualTo(File.ReadAllBytes(Path.Combine(DotnetCommand.RepositoryRoot, "LICENSE"))));

        var metadata = Nuspec(package);
        Assert.That(Value(metadata, "id"), Is.EqualTo(id));
        Assert.That(Value(metadata, "version"), Is.EqualTo(Version));
        Assert.That(Value(metadata, "readme"), Is.EqualTo("README.md"));
        var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
        Assert.That(((string?)license.Attribute("type"), license.Value), Is.EqualTo(("expression", "MIT")));
        Assert.That(Value(metadata, "description"), Is.Not.Empty);
    }

    [Test]
    public void TheLibraryPackageHoldsNoSyntheticDataNorSampleTypes()
    {
        using var package = Open($"ImageCaptioning.{Version}.nupkg");

        var types = XDocument.Load(new MemoryStream(Bytes(package, "lib/net10.0/ImageCaptioning.xml"))).Descendants("member")
            .Select(m => (string)m.Attribute("name")!).Where(name => name.StartsWith("T:", StringComparison.Ordinal)).ToList();
        Assert.That(types, Does.Contain("T:ImageCaptioning.Vision.ImageBatchLoader"), "the documented types are listed");
        Assert.That(types, Has.None.StartsWith("T:ImageCaptioning.Synthetic."));
        Assert.That(types, Has.None.Contains("JpegEncoder").And.None.Contains("ImageCsvSequence").And.None.Contains("ArraySequence"));
    }

    [TestCase("ImageCaptioning", "ImageCaptioning.Torch")]
    [TestCase("ImageCaptioning.Synthetic", "ImageCaptioning")]
    public void APackageDependsOnTheOneItBuildsOnOfTheSameVersion(string id, string buildsOn)
    {
        using var package = Open($"{id}.{Version}.nupkg");

        var dependencies = Dependencies(package);

        Assert.That(dependencies, Does.ContainKey(buildsOn).WithValue(Version));
        if (id == "ImageCaptioning") Assert.That(dependencies, Does.ContainKey("Microsoft.Extensions.Logging.Abstractions"));
    }

    [TestCase("ImageCaptioning")]
    [TestCase("ImageCaptioning.Torch")]
    [TestCase("ImageCaptioning.Synthetic")]
    public void PackagesReferenceTorchSharpAndNoBackendOrNativeLibrary(string id)
    {
        using var package = Open($"{id}.{Version}.nupkg");

        var dependencies = Dependencies(package).Keys;
        if (id == "ImageCaptioning.Torch") Assert.That(dependencies, Does.Contain("TorchSharp"), "the managed engine");
        Assert.That(dependencies, Has.None.StartWith("TorchSharp-").And.None.StartWith("libtorch"), "the app picks the backend (TorchSharp-cpu or a CUDA package)");
        Assert.That(package.Entries.Select(e => e.FullName), Has.None.StartsWith("runtimes/").And.None.StartsWith("contentFiles/"));
    }

    [Test]
    public void TheLibraryShipsItsLoadFixAsBuildTransitiveTargets()
    {
        using var package = Open($"ImageCaptioning.{Version}.nupkg");
        var source = Path.Combine(DotnetCommand.RepositoryRoot, "src", "ImageCaptioning", "buildTransitive");

        foreach (var file in Directory.GetFiles(source))
            Assert.That(Bytes(package, $"buildTransitive/{Path.GetFileName(file)}"), Is.EqualTo(File.ReadAllBytes(file)));
        Assert.That(package.GetEntry("buildTransitive/ImageCaptioning.targets"), Is.Not.Null, "NuGet imports buildTransitive/<id>.targets");
    }

    [TestCase("ImageCaptioning")]
    [TestCase("ImageCaptioning.Torch")]
    [TestCase("ImageCaptioning.Synthetic")]
    public void TheSymbolPackageHoldsThePdbOfThePackedAssembly(string id)
    {
        using var symbols = Open($"{id}.{Version}.snupkg");

        Assert.That(Bytes(symbols, $"lib/net10.0/{id}.pdb"), Is.EqualTo(File.ReadAllBytes(Built(id, id + ".pdb"))));
    }

    private static ZipArchive Open(string fileName)
    {
        var path = Path.Combine(PackedFeed.Path, fileName);
        Assert.That(File.Exists(path), Is.True, $"{fileName} was not packed");
        return ZipFile.OpenRead(path);
    }

    private static byte[] Bytes(ZipArchive package, string entryName)
    {
        var entry = package.GetEntry(entryName);
        Assert.That(entry, Is.Not.Null, $"no {entryName} in the package; it holds {string.Join(", ", package.Entries.Select(e => e.FullName))}");
        using var stream = entry!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    /// <summary>The package's dependencies: id to version.</summary>
    private static Dictionary<string, string> Dependencies(ZipArchive package) =>
        Nuspec(package).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);

    private static string? Value(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
}

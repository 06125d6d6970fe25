using System.Text.Json;
using System.Text.RegularExpressions;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Packaging;

/// <summary>
/// A fresh console app (<c>dotnet new console</c>, outside the repository) references the ImageCaptioning and
/// ImageCaptioning.Synthetic packages from the local feed and TorchSharp-cpu as its backend, restores, builds and runs a tiny pipeline end to end: synthetic
/// images, random-weight ResNet-50 features at 32 px, one epoch, one caption. The app reports where
/// libLibTorchSharp.so was mapped from: the output's own copy (through deps.json's runtimes/linux-x64 entry for a
/// RID-agnostic build, beside the app for a linux-x64 build), which the package's build step patched where this
/// distribution needs it.
/// </summary>
[TestFixture]
public sealed partial class ConsumerAppTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    // The whole app: what a user writes after `dotnet add package ImageCaptioning` (and ImageCaptioning.Synthetic for the data).
    private const string Program = """
        using ImageCaptioning.Pipeline;
        using ImageCaptioning.Synthetic;
        using ImageCaptioning.Vision;

        var work = args[0];
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 24, ImageSize = 32, Seed = 3 })
            .Generate(Path.Combine(work, "data"));
        using var captioner = CaptionPipeline.Create()
            .WithResNet50(CnnWeights.Random(seed: 5))
            .WithFeatureExtractorOptions(o => o with { Transform = o.Transform with { Resize = ImageResize.To(32, 32) } })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(Path.Combine(work, "features"))
            .WithModel(m => m with { EmbeddingSize = 32, HiddenSize = 32 })
            .WithSeed(1)
            .Train(o => o with { Epochs = 1, BatchSize = 16 });
        Console.WriteLine($"trained: {captioner.Training!.EpochsCompleted} epoch");
        Console.WriteLine($"caption: {captioner.Caption(data.GetImagePath(data.Images[0].ImageId))}");
        Console.WriteLine($"library: {typeof(CaptionPipeline).Assembly.Location}");
        // Where the dynamic loader mapped TorchSharp's native library from: the line of /proc/self/maps naming it.
        var native = File.ReadLines("/proc/self/maps").Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].EndsWith("/libLibTorchSharp.so")).Select(fields => fields[5]).Distinct();
        Console.WriteLine($"native: {string.Join(";", native)}");
        """;

    private TempDirectory dir = null!;
    private string app = null!;
    private Dictionary<string, string?> environment = null!;

    [OneTimeSetUp]
    public void CreateApp()
    {
        dir = new TempDirectory();
        app = dir.File("Consumer");
        // A private package folder: the packages are always 0.1.0-style fixed versions, and the machine-wide folder
        // would keep serving the first copy it extracted instead of the one just packed.
        environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = dir.File("packages") };

        Succeed(DotnetCommand.Run(["new", "console", "--name", "Consumer", "--output", app, "--no-restore"], Timeout, dir.Path, environment));
        File.WriteAllText(Path.Combine(dir.Path, "nuget.config"), NugetConfig(PackedFeed.Path, MachinePackageFolder()));
        Succeed(DotnetCommand.Run(["add", "package", "ImageCaptioning", "--version", PackedFeed.Version, "--no-restore"], Timeout, app, environment));
        Succeed(DotnetCommand.Run(["add", "package", "ImageCaptioning.Synthetic", "--version", PackedFeed.Version, "--no-restore"], Timeout, app, environment));
        Succeed(DotnetCommand.Run(["add", "package", "TorchSharp-cpu", "--version", "0.107.0", "--no-restore"], Timeout, app, environment));
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
    }

    [OneTimeTearDown]
    public void Delete() => dir.Dispose();

    [Test]
    public void RidAgnosticAppFindsTheNativeLibraryThroughDepsJson()
    {
        Succeed(DotnetCommand.Run(["restore", "--disable-build-servers"], Timeout, app, environment));
        var build = Succeed(DotnetCommand.Run(["build", "--no-restore", "--disable-build-servers", "-nodeReuse:false"], Timeout, app, environment));
        var output = Path.Combine(app, "bin", "Debug", "net10.0");

        var run = Succeed(DotnetCommand.Run([Path.Combine(output, "Consumer.dll"), dir.File("work-any")], Timeout, app));

        AssertCaptioned(run, output);
        Assert.That(Native(run), Is.EqualTo(Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")), run.Transcript);
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "Consumer.deps.json")));
        var targets = deps.RootElement.GetProperty("targets").EnumerateObject().Single().Value;
        var backend = targets.EnumerateObject().Single(p => p.Name.StartsWith("TorchSharp/", StringComparison.Ordinal)).Value;
        var asset = backend.GetProperty("runtimeTargets").GetProperty("runtimes/linux-x64/native/libLibTorchSharp.so");
        Assert.That((asset.GetProperty("rid").GetString(), asset.GetProperty("assetType").GetString()), Is.EqualTo(("linux-x64", "native")));
        AssertNoWarnings(build);
    }

    [Test]
    public void LinuxX64AppGetsTheNativeLibraryBesideIt()
    {
        Succeed(DotnetCommand.Run(["restore", "--runtime", "linux-x64", "--disable-build-servers"], Timeout, app, environment));
        var build = Succeed(DotnetCommand.Run(
            ["build", "--runtime", "linux-x64", "--no-self-contained", "--no-restore", "--disable-build-servers", "-nodeReuse:false"], Timeout, app, environment));
        var output = Path.Combine(app, "bin", "Debug", "net10.0", "linux-x64");

        var run = Succeed(DotnetCommand.Run([Path.Combine(output, "Consumer.dll"), dir.File("work-linux-x64")], Timeout, app));

        AssertCaptioned(run, output);
        Assert.That(Native(run), Is.EqualTo(Path.Combine(output, "libLibTorchSharp.so")), run.Transcript);
        AssertEveryNativeLibraryResolves(output);
        AssertNoWarnings(build);
    }

    /// <summary>
    /// The app needs nothing from the system beyond glibc and libstdc++: every shared library NuGet put in its output
    /// (libtorch's, TorchSharp's, SkiaSharp's) has all its dependencies found by <c>ldd</c>. The one version ldd may
    /// report missing is the GLIBCXX_3.4.32 requirement the load fix marked weak, on a libstdc++ older than GCC 13.
    /// </summary>
    private static void AssertEveryNativeLibraryResolves(string output)
    {
        var libraries = Directory.GetFiles(output, "*.so*", SearchOption.AllDirectories);
        Assert.That(libraries.Select(Path.GetFileName), Does.Contain("libLibTorchSharp.so").And.Contain("libtorch_cpu.so").And.Contain("libSkiaSharp.so"));
        foreach (var library in libraries)
        {
            var ldd = DotnetCommand.RunProcess("ldd", [library], Timeout, output);
            Assert.That(ldd.ExitCode, Is.Zero, ldd.Transcript);
            var problems = ldd.Transcript.Split('\n').Where(line => line.Contains("not found", StringComparison.Ordinal))
                .Where(line => !line.Contains("weak version `GLIBCXX_3.4.32' not found", StringComparison.Ordinal));
            Assert.That(problems, Is.Empty, $"{library}:\n{ldd.Transcript}");
        }
    }

    private static void AssertCaptioned(CommandResult run, string output)
    {
        Assert.That(run.StandardOutput, Does.Contain("trained: 1 epoch"), run.Transcript);
        Assert.That(run.StandardOutput, Does.Match(@"(?m)^caption: [a-z ]*$"), run.Transcript);
        Assert.That(run.StandardOutput, Does.Contain($"library: {Path.Combine(output, "ImageCaptioning.dll")}"), "the package's assembly, copied into the app");
    }

    private static string Native(CommandResult run) => NativeLine().Match(run.StandardOutput).Groups[1].Value;

    private static void AssertNoWarnings(CommandResult build) =>
        Assert.That(build.StandardOutput, Does.Not.Match(@"(?m): warning [A-Z]+\d+"), "referencing the package gives the consumer no build warning\n" + build.Transcript);

    private static CommandResult Succeed(CommandResult result)
    {
        Assert.That(result.ExitCode, Is.Zero, result.Transcript);
        return result;
    }

    /// <summary>
    /// The local feed is added to the configured sources (no &lt;clear/&gt;: the registry stays for dependencies), and
    /// the machine's package folder, filled by the repository's own restore, is a read-only fallback so dependencies
    /// already there need no download.
    /// </summary>
    private static string NugetConfig(string feed, string machinePackages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="imagecaptioning-local" value="{feed}" />
          </packageSources>
          <fallbackPackageFolders>
            <add key="machine" value="{machinePackages}" />
          </fallbackPackageFolders>
        </configuration>
        """;

    private static string MachinePackageFolder()
    {
        var locals = DotnetCommand.Run(["nuget", "locals", "global-packages", "--list"], Timeout);
        Assert.That(locals.ExitCode, Is.Zero, locals.Transcript);
        var match = GlobalPackagesLine().Match(locals.StandardOutput);
        Assert.That(match.Success, Is.True, locals.Transcript);
        return match.Groups[1].Value.Trim();
    }

    [GeneratedRegex(@"(?m)^native: (.*?)\r?$")]
    private static partial Regex NativeLine();

    [GeneratedRegex(@"global-packages: (.+)")]
    private static partial Regex GlobalPackagesLine();
}

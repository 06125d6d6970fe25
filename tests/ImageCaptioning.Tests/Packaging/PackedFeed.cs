using System.Reflection;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Packaging;

/// <summary>
/// Packs the solution once for every packaging test, into a folder that serves as a local NuGet feed:
/// <c>dotnet pack ImageCaptioning.sln --no-build</c>, so the packages hold exactly what the solution build produced.
/// </summary>
[SetUpFixture]
public sealed class PackedFeed
{
    private static TempDirectory? directory;

    /// <summary>The feed folder holding the .nupkg and .snupkg files.</summary>
    internal static string Path => directory?.Path ?? throw new InvalidOperationException("the feed is made in the packaging set-up");

    /// <summary>The package version: the built library's, without the source revision.</summary>
    internal static string Version { get; } =
        typeof(CaptionPipeline).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [OneTimeSetUp]
    public void Pack()
    {
        directory = new TempDirectory();
        var pack = DotnetCommand.Run(
            ["pack", System.IO.Path.Combine(DotnetCommand.RepositoryRoot, "ImageCaptioning.sln"), "-c", DotnetCommand.Configuration, "--no-build",
             "-o", directory.Path, "-nodeReuse:false"],
            TimeSpan.FromMinutes(2));
        Assert.That(pack.ExitCode, Is.Zero, pack.Transcript);
    }

    [OneTimeTearDown]
    public void Delete() => directory?.Dispose();
}

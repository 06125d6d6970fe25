using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Packaging;

/// <summary>
/// src/ImageCaptioning/buildTransitive/ImageCaptioning.targets, imported by a fresh console app outside the repository
/// that references TorchSharp-cpu 0.107.0: where the host's libstdc++ lacks GLIBCXX_3.4.32, the app's copies of
/// libLibTorchSharp.so (build output, publish folder) get that version need marked weak and the app runs; the NuGet
/// package folder's copy is never touched, even with hard-linked copy-local files; with the step turned off the copy is
/// the package's. Where the host's libstdc++ has the version, the step must leave every copy as the package ships it.
/// Everything here is read with an ELF reader of its own, not with the task's, and needs no binutils.
/// </summary>
[TestFixture]
public sealed class LibTorchSharpLoadFixTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private const ushort VerFlgWeak = 0x2;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private const string Program = """
        using TorchSharp;
        Console.WriteLine($"sum={torch.ones(3).sum().item<float>()}");
        """;

    private string work = null!;
    private string targets = null!;
    private string hostLibStdCxx = null!;
    private bool hostHasVersion;

    [OneTimeSetUp]
    public void CreateWorkFolder()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the load fix is for Linux hosts");

        targets = Path.Combine(DotnetCommand.RepositoryRoot, "src", "ImageCaptioning", "buildTransitive", "ImageCaptioning.targets");
        Assert.That(File.Exists(targets), Is.True, targets);
        (hostLibStdCxx, hostHasVersion) = HostLibStdCxx();
        TestContext.Out.WriteLine($"host libstdc++: {hostLibStdCxx}, defines {Version}: {hostHasVersion}");

        work = Path.Combine(Path.GetTempPath(), "ic-loadfix-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        // Empty Directory.Build.* files stop MSBuild looking further up for any that would change the app.
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(work, "Directory.Build.targets"), "<Project />");
    }

    [OneTimeTearDown]
    public void DeleteWorkFolder()
    {
        if (work is null) return;
        try { Directory.Delete(work, recursive: true); }
        catch (IOException) { }
    }

    [Test]
    public void BuildPatchesOnlyTheOutputCopyAndTheAppRuns()
    {
        var app = CreateApp("build");
        var build = Succeed(Dotnet(app, "build", "-v:n"));
        var output = Path.Combine(app, "bin", "Debug", "net10.0");
        var copy = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var package = PackageCopy(app);

        AssertCopy(copy, package, build);
        AssertPackageUntouched(package, copy);
        AssertRuns(Path.Combine(output, "App.dll"));
    }

    [Test]
    public void PublishPatchesThePublishFolderCopy()
    {
        var app = CreateApp("publish");
        var publishDir = Path.Combine(app, "published");
        var publish = Succeed(Dotnet(app, "publish", "-r", "linux-x64", "--self-contained", "false", "-o", publishDir, "-v:n"));
        var copy = Path.Combine(publishDir, "libLibTorchSharp.so");
        var package = PackageCopy(app);

        AssertCopy(copy, package, publish);
        AssertPackageUntouched(package, copy);
        AssertRuns(Path.Combine(publishDir, "App.dll"));
    }

    [Test]
    public void TurningTheStepOffLeavesThePackagesCopyInTheOutput()
    {
        var app = CreateApp("disabled");
        var copy = Path.Combine(app, "bin", "Debug", "net10.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

        // On, then off: a copy patched by the earlier build must not survive the property being turned off.
        Succeed(Dotnet(app, "build"));
        var off = Succeed(Dotnet(app, "build", "-p:ImageCaptioningPatchLibTorchSharp=false", "-v:n"));
        var package = PackageCopy(app);

        Assert.That(WeakFlag(copy), Is.False, $"{copy} is as the package ships it\n{off.Transcript}");
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(File.ReadAllBytes(package)), "the output copy is the package's file");
        Assert.That(off.Output, Does.Not.Contain(": marked " + Version), "turned off, the step patches nothing");
        if (!hostHasVersion)
            Assert.That(off.Output, Does.Contain($"the patched {copy} was deleted"), "the copy the first build patched was replaced\n" + off.Transcript);
        // Unpatched, the copy may well be a hard link to the package's file again; it must still be the original.
        Assert.That(WeakFlag(package), Is.False, $"{package}, in the NuGet package folder, is as the package ships it");
    }

    /// <summary>The one assertion that differs by host: patched where the version is missing, untouched where not.</summary>
    private void AssertCopy(string copy, string package, CommandResult command)
    {
        Assert.That(File.Exists(copy), Is.True, $"{copy} exists\n{command.Transcript}");
        Assert.That(command.Output, Does.Not.Contain("warning ICLT"), "the step warns about nothing\n" + command.Transcript);
        var before = File.ReadAllBytes(package);
        var after = File.ReadAllBytes(copy);
        Assert.That(after, Has.Length.EqualTo(before.Length));
        if (hostHasVersion)
        {
            Assert.That(WeakFlag(copy), Is.False, $"{hostLibStdCxx} defines {Version}, so {copy} is left alone\n{command.Transcript}");
            Assert.That(after, Is.EqualTo(before), "the copy is the package's file, byte for byte");
            Assert.That(command.Output, Does.Contain($"ImageCaptioning: {copy}: ").And.Contain("nothing to do"), "the step says why it did nothing\n" + command.Transcript);
            return;
        }
        Assert.That(WeakFlag(copy), Is.True, $"{hostLibStdCxx} lacks {Version}, so {copy} marks it weak\n{command.Transcript}");
        var flags = Elf.Read(before).Single(n => n.Name == Version).FlagsOffset;
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.That(changed, Is.EqualTo(new[] { flags }), "the one byte holding VER_FLG_WEAK is all that changed");
        Assert.That(command.Output, Does.Contain($"ImageCaptioning: {copy}: marked {Version} weak"), "the step says what it did\n" + command.Transcript);
    }

    private static void AssertPackageUntouched(string package, string copy)
    {
        Assert.That(WeakFlag(package), Is.False, $"{package}, in the NuGet package folder, is as the package ships it");
        Assert.That(FileId(copy), Is.Not.EqualTo(FileId(package)), $"{copy} is a file of its own, not a hard link to {package}");
    }

    private static void AssertRuns(string assembly)
    {
        var run = Run(Path.GetDirectoryName(assembly)!, DotnetCommand.Host, assembly);
        Assert.That((run.ExitCode, run.StandardOutput.Trim()), Is.EqualTo((0, "sum=3")), run.Transcript);
    }

    private string CreateApp(string name)
    {
        var app = Path.Combine(work, name);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <!-- As in the repository, and the case to guard against: a hard link shares the package folder's
                     inode, so patching it in place would change the package. Copying libtorch (1 GB) would also
                     dominate the test's time. -->
                <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
                <CreateHardLinksForPublishFilesIfPossible>true</CreateHardLinksForPublishFilesIfPossible>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
              </ItemGroup>
              <Import Project="{targets}" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
        return app;
    }

    /// <summary>The package folder's libLibTorchSharp.so, as the app's restore recorded it.</summary>
    private static string PackageCopy(string app)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        var root = assets.RootElement;
        var folder = root.GetProperty("packageFolders").EnumerateObject().First().Name;
        var torchSharp = root.GetProperty("libraries").GetProperty("TorchSharp/0.107.0").GetProperty("path").GetString()!;
        var path = Path.Combine(folder, torchSharp, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }

    private static bool WeakFlag(string library)
    {
        var need = Elf.Read(File.ReadAllBytes(library)).SingleOrDefault(n => n.Name == Version);
        Assert.That(need, Is.Not.Null, $"{library} needs {Version} (TorchSharp 0.107.0's does)");
        return (need!.Flags & VerFlgWeak) != 0;
    }

    // Device and inode, which .NET does not expose.
    private static string FileId(string path)
    {
        var stat = Run(Path.GetTempPath(), "stat", "-L", "--format=%d:%i", path);
        Assert.That(stat.ExitCode, Is.Zero, stat.Transcript);
        return stat.StandardOutput.Trim();
    }

    /// <summary>
    /// The libstdc++ the app will get: the dotnet host links it, so the copy mapped into this test process is the one,
    /// else the loader cache's. Whether it has the version is read from its string table, independently of the task.
    /// </summary>
    private static (string Path, bool HasVersion) HostLibStdCxx()
    {
        var path = File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..].Trim() : "")
            .FirstOrDefault(mapped => Path.GetFileName(mapped).StartsWith("libstdc++.so.6", StringComparison.Ordinal));
        if (path is null)
        {
            var cache = Run("/", "/sbin/ldconfig", "-p");
            path = cache.StandardOutput.Split('\n').Select(line => line.Trim())
                .Where(line => line.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && line.Contains("=> ", StringComparison.Ordinal))
                .Select(line => line[(line.IndexOf("=> ", StringComparison.Ordinal) + 3)..])
                .FirstOrDefault(candidate => File.Exists(candidate) && File.ReadAllBytes(candidate) is [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, ..]);
        }
        if (path is null || !File.Exists(path)) Assert.Inconclusive("no libstdc++.so.6 found on this host");
        var image = File.ReadAllBytes(path!);
        return (path!, image.AsSpan().IndexOf(Encoding.ASCII.GetBytes("\0" + Version + "\0")) >= 0);
    }

    // Build servers would outlive the command and hold its pipes open (DotnetCommand turns them off); the test host's
    // MSBuild variables would steer the child's SDK; an idle OpenMP pool spinning would slow the machine.
    private static readonly Dictionary<string, string?> ChildEnvironment = new()
    {
        ["OMP_WAIT_POLICY"] = "PASSIVE", ["MSBUILD_EXE_PATH"] = null, ["MSBuildExtensionsPath"] = null, ["MSBuildSDKsPath"] = null,
    };

    private static CommandResult Dotnet(string directory, params string[] arguments) =>
        DotnetCommand.Run([.. arguments, "-nologo", "-nodeReuse:false"], Timeout, directory, ChildEnvironment);

    private static CommandResult Run(string directory, string program, params string[] arguments) =>
        DotnetCommand.RunProcess(program, arguments, Timeout, directory, ChildEnvironment);

    private static CommandResult Succeed(CommandResult result)
    {
        Assert.That(result.ExitCode, Is.Zero, result.Transcript);
        return result;
    }

    private sealed record VersionNeed(string Name, ushort Flags, int FlagsOffset);

    /// <summary>The Vernaux entries of an ELF64 little-endian file's SHT_GNU_verneed section, found through its section headers.</summary>
    private static class Elf
    {
        public static List<VersionNeed> Read(byte[] image)
        {
            Assert.That(image.Length > 64 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F' && image[4] == 2 && image[5] == 1,
                Is.True, "an ELF64 little-endian file");
            var sectionTable = checked((int)U64(image, 0x28));
            int entrySize = U16(image, 0x3a), count = U16(image, 0x3c);
            var needs = new List<VersionNeed>();
            for (var i = 0; i < count; i++)
            {
                var header = sectionTable + i * entrySize;
                if (U32(image, header + 4) != 0x6ffffffe) continue;
                var offset = checked((int)U64(image, header + 24));
                var strings = checked((int)U64(image, sectionTable + (int)U32(image, header + 40) * entrySize + 24));
                var entry = offset;
                for (var n = U32(image, header + 44); n > 0; n--)
                {
                    var aux = entry + (int)U32(image, entry + 8);
                    for (var a = U16(image, entry + 2); a > 0; a--)
                    {
                        needs.Add(new VersionNeed(Name(image, strings + (int)U32(image, aux + 8)), U16(image, aux + 4), aux + 4));
                        aux += (int)U32(image, aux + 12);
                    }
                    entry += (int)U32(image, entry + 12);
                }
            }
            return needs;
        }

        private static string Name(byte[] image, int offset) => Encoding.ASCII.GetString(image, offset, Array.IndexOf(image, (byte)0, offset) - offset);
        private static ushort U16(byte[] image, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(offset, 2));
        private static uint U32(byte[] image, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset, 4));
        private static ulong U64(byte[] image, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(offset, 8));
    }
}

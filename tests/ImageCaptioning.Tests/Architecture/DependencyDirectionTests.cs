using System.Text.RegularExpressions;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Architecture;

/// <summary>
/// The core package's namespaces in data-flow order, as the README's architecture picture draws them: files become
/// captions and tokens (Text), images become pixels (Vision), tokens become batches (Data), pixels become cached
/// features (Features); both meet in the model (Modeling), which metrics (Evaluation) and the trainer (Training)
/// use, and the pipeline (Pipeline) orchestrates. A namespace may use those to its left, never one to its right. The
/// check reads the sources, so a using directive, a fully qualified name and a doc reference all count.
/// </summary>
[TestFixture]
public sealed partial class DependencyDirectionTests
{
    /// <summary>Used by every stage and using none: the root namespace's guards, file writing.</summary>
    private static readonly string[] Foundation = ["IO", "Concurrency"];

    private static readonly string[] DataFlow = ["Text", "Vision", "Data", "Features", "Modeling", "Encoders", "Evaluation", "Training", "Persistence", "Pipeline", "Pretrained"];

    private static readonly string Core = Path.Combine(DotnetCommand.RepositoryRoot, "src", "ImageCaptioning");

    [Test]
    public void EveryFolderIsOneNamespaceOfTheKnownStages()
    {
        foreach (var (file, folder, declared) in SourceFiles())
        {
            if (folder.Length == 0 && declared.Length == 0) continue; // global usings
            // An architecture's own folder under Pretrained (Hugging Face's one folder per architecture) may be its own namespace.
            var own = "ImageCaptioning." + string.Join('.', Path.GetRelativePath(Core, Path.GetDirectoryName(file)!).Split(Path.DirectorySeparatorChar));
            Assert.That(declared, folder == "Pretrained" ? Is.EqualTo("ImageCaptioning." + folder).Or.EqualTo(own) : Is.EqualTo(folder.Length == 0 ? "ImageCaptioning" : "ImageCaptioning." + folder),
                $"{file}: a folder is one namespace");
            Assert.That(folder.Length == 0 || Foundation.Contains(folder) || DataFlow.Contains(folder), Is.True,
                $"{file}: the folder {folder} is neither a stage of the data flow nor foundation; add it to the README's picture and to this test");
        }
    }

    [Test]
    public void NoNamespaceUsesOneToItsRightInTheDataFlow()
    {
        var violations = new List<string>();
        foreach (var (file, folder, _) in SourceFiles())
        {
            var rank = Rank(folder);
            foreach (var used in UsedStages(File.ReadAllText(file)).Where(used => used != folder))
                if (Rank(used) >= rank)
                    violations.Add($"{Path.GetRelativePath(Core, file)} ({Name(folder)}) uses {used}");
        }
        Assert.That(violations, Is.Empty, "each namespace may use only those to its left: " + string.Join(" → ", DataFlow));
    }

    [Test]
    public void ModelingSeesTensorsNotTokenizersOrImages()
    {
        var uses = SourceFiles().Where(f => f.Folder == "Modeling")
            .SelectMany(f => UsedStages(File.ReadAllText(f.File)).Select(used => (f.File, used)))
            .Where(pair => pair.used is "Text" or "Vision").Select(pair => $"{Path.GetFileName(pair.File)} uses {pair.used}");
        Assert.That(uses, Is.Empty, "the model takes token ids and feature tensors; tokenizers and transforms are persisted beside it, not by it");
    }

    // The root namespace and the foundation come first, then the stages in order.
    private static int Rank(string folder) =>
        folder.Length == 0 ? -2 : Foundation.Contains(folder) ? -1 : Array.IndexOf(DataFlow, folder) is var i and >= 0 ? i : int.MaxValue;

    private static string Name(string folder) => folder.Length == 0 ? "ImageCaptioning" : folder;

    private static IEnumerable<string> UsedStages(string source) =>
        QualifiedName().Matches(source).Select(m => m.Groups[1].Value).Where(name => Foundation.Contains(name) || DataFlow.Contains(name)).Distinct();

    private static IEnumerable<(string File, string Folder, string Declared)> SourceFiles()
    {
        var files = Directory.GetFiles(Core, "*.cs", SearchOption.AllDirectories)
            .Where(file => Path.GetRelativePath(Core, file).Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj" or "buildTransitive"))
            .ToList();
        Assert.That(files, Has.Count.GreaterThan(50), $"the core's sources under {Core}");
        foreach (var file in files)
        {
            var parts = Path.GetRelativePath(Core, file).Split(Path.DirectorySeparatorChar);
            var folder = parts.Length == 1 ? "" : parts[0];
            var declared = NamespaceDeclaration().Match(File.ReadAllText(file)) is { Success: true } m ? m.Groups[1].Value : "";
            yield return (file, folder, declared);
        }
    }

    [GeneratedRegex(@"\bImageCaptioning\.(\w+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"(?m)^namespace\s+([\w.]+)\s*;")]
    private static partial Regex NamespaceDeclaration();
}

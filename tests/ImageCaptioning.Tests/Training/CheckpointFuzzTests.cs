using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// Damaged copies of a training checkpoint's three files, read as a resume reads them (its JSON, then the weights
/// and optimiser state into a fresh model and Adam). The checkpoint's digests cover all three, so nothing may resume
/// from other weights, moments or position.
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class CheckpointFuzzTests
{
    private static readonly string[] Files = ["last.json", "modelFile", "optimizerFile"];
    private static readonly Type[] Documented = [typeof(InvalidDataException), typeof(IOException), typeof(StateDictMismatchException)];

    private TempDirectory shared = null!;
    private TinyCaptionTask task = null!;
    private (string State, Dictionary<string, float[]> Weights, byte[] Optimizer) original;

    [OneTimeSetUp]
    public void TrainOneEpoch()
    {
        shared = new TempDirectory();
        task = new TinyCaptionTask();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 1, shared.File("checkpoints"))))
            trainer.Train(task.Dataset());
        original = Restore(shared.File("checkpoints"));
    }

    [OneTimeTearDown]
    public void Delete() => shared.Dispose();

    [TestCaseSource(nameof(Files))]
    public void DamageIsRefusedOrChangesNothing(string file)
    {
        var source = shared.File("checkpoints");
        var path = FileOf(source, file);
        var bytes = File.ReadAllBytes(path);
        var tally = new FuzzTally($"training checkpoint {file}");
        foreach (var fuzzCase in FileMutations.Cases(bytes, FuzzSettings.CasesPerKind, FuzzSettings.Seed + Array.IndexOf(Files, file)))
        {
            using var dir = new TempDirectory();
            foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir.Path, Path.GetFileName(f)));
            File.WriteAllBytes(Path.Combine(dir.Path, Path.GetFileName(path)), fuzzCase.Bytes);
            tally.Run(fuzzCase, _ =>
            {
                var restored = Restore(dir.Path);
                var same = restored.State == original.State && restored.Optimizer.AsSpan().SequenceEqual(original.Optimizer)
                    && restored.Weights.Keys.SequenceEqual(original.Weights.Keys) && restored.Weights.All(w => w.Value.AsSpan().SequenceEqual(original.Weights[w.Key]));
                return same ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent;
            }, Documented, e => e.Message.Contains("SHA-256", StringComparison.Ordinal));
        }
        tally.Report();
        tally.AssertNothingLoadedDifferent();
        Assert.That(tally[FuzzOutcome.RefusedByCheck], Is.GreaterThan(0));
    }

    private static string FileOf(string folder, string file) => file == "last.json"
        ? Path.Combine(folder, file)
        : Path.Combine(folder, JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "last.json"))).RootElement.GetProperty(file).GetString()!);

    // What a resume reads: the state (compared as JSON), the weights and the optimiser's state (compared as its bytes).
    private (string State, Dictionary<string, float[]> Weights, byte[] Optimizer) Restore(string folder)
    {
        var jsonPath = Path.Combine(folder, "last.json");
        var state = CheckpointStore.ReadState(jsonPath);
        using var model = task.Model(seed: 99, dropout: 0);
        using var optimizer = torch.optim.Adam(model.parameters());
        CheckpointStore.RestoreTensors(jsonPath, state, model, optimizer, torch.CPU);
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return (JsonSerializer.Serialize(state, TrainingCheckpoint.Json), TinyCaptionTask.Weights(model), saved.ToArray());
    }
}

using System.Diagnostics;
using ImageCaptioning.Pipeline;

namespace TrainFlickr8k;

/// <summary>
/// Prints the pipeline's progress: the first and last report of each stage, and at most one line per
/// <paramref name="interval"/> in between (extraction reports every image, training every step).
/// </summary>
internal sealed class ConsoleProgress(TimeSpan interval) : IProgress<PipelineProgress>
{
    private readonly Lock gate = new();
    private readonly Stopwatch sinceLast = Stopwatch.StartNew();
    private PipelineStage? stage;

    public void Report(PipelineProgress value)
    {
        lock (gate)
        {
            var newStage = value.Stage != stage;
            var last = value.Done >= value.Total;
            if (!newStage && !last && sinceLast.Elapsed < interval) return;
            stage = value.Stage;
            sinceLast.Restart();
            var percent = value.Total > 0 ? 100.0 * value.Done / value.Total : 100;
            Console.WriteLine($"[{Describe(value.Stage)} {percent,5:F1}%] {value.Detail}");
        }
    }

    private static string Describe(PipelineStage stage) => stage switch
    {
        PipelineStage.ReadingCaptions => "captions",
        PipelineStage.ExtractingFeatures => "features",
        PipelineStage.Training => "training",
        _ => "evaluating",
    };
}

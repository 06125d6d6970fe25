namespace ImageCaptioning.Pipeline;

/// <summary>
/// Forwards inner progress on the reporting thread. Progress&lt;T&gt; would post to the thread pool, so reports could
/// arrive late or out of order, after the step they describe has finished.
/// </summary>
internal sealed class ProgressRelay<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

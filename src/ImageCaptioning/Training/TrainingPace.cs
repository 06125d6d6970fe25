namespace ImageCaptioning.Training;

/// <summary>Seconds per step in this session, for the time estimate of <see cref="TrainingProgress"/>.</summary>
internal sealed class TrainingPace
{
    private double seconds;
    private long steps;

    public void Add(double stepSeconds)
    {
        seconds += stepSeconds;
        steps++;
    }

    public TimeSpan Estimate(long remainingSteps) =>
        steps == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds / steps * remainingSteps);
}

namespace ImageCaptioning.Training;

/// <summary>
/// The checkpoint to resume from was trained with other settings or another dataset than the ones given now; the
/// message names the checkpoint and what differs. Resume with the same settings, or start a new run elsewhere.
/// </summary>
public sealed class CheckpointMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception for the checkpoint <paramref name="checkpointPath"/> (null for a trainer's in-memory state).</summary>
    public CheckpointMismatchException(string? checkpointPath, string message) : base(message)
    {
        CheckpointPath = checkpointPath;
    }

    /// <summary>The checkpoint's JSON file, or null when the state came from an earlier call on the same trainer.</summary>
    public string? CheckpointPath { get; }
}

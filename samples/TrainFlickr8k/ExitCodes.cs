namespace TrainFlickr8k;

/// <summary>The process exit codes, so scripts can tell a missing download from a failed run.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;

    /// <summary>A dataset or weights file is missing or unreadable (the message says what to get), or the command line is wrong.</summary>
    public const int MissingInput = 2;
    public const int UsageError = 2;

    /// <summary>Ctrl+C: 128 + SIGINT, as shells report it.</summary>
    public const int Cancelled = 130;
}

namespace CaptionImages;

/// <summary>The process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;

    /// <summary>The model folder or an image is missing or unreadable (the message names it).</summary>
    public const int MissingInput = 2;
    public const int UsageError = 2;
}

namespace ImageCaptioning.Features;

/// <summary>A feature store's file is missing, malformed, truncated or inconsistent; <see cref="FilePath"/> names it.</summary>
public sealed class FeatureStoreException : IOException
{
    /// <summary>Creates the exception; the message starts with the file's path.</summary>
    public FeatureStoreException(string filePath, string reason, Exception? innerException = null)
        : base($"{filePath}: {reason}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The offending file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }
}

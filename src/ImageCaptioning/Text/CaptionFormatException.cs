namespace ImageCaptioning.Text;

/// <summary>A caption, split or vocabulary file is malformed; the message names the file and the 1-based line.</summary>
public sealed class CaptionFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> at <paramref name="lineNumber"/>.</summary>
    public CaptionFormatException(string filePath, int lineNumber, string reason, Exception? innerException = null)
        : base($"{filePath}({lineNumber}): {reason}", innerException)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Reason = reason;
    }

    /// <summary>The malformed file.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line where the malformed record starts.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}

namespace ImageCaptioning.IO;

/// <summary>CSV text is malformed; the message names the 1-based line where the offending field starts.</summary>
public sealed class CsvFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="lineNumber"/>.</summary>
    public CsvFormatException(int lineNumber, string reason)
        : base($"line {lineNumber}: {reason}")
    {
        LineNumber = lineNumber;
        Reason = reason;
    }

    /// <summary>The 1-based line where the malformed field starts.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}

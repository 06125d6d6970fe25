namespace ImageCaptioning.Pipeline;

/// <summary>Which part of the data to evaluate.</summary>
public enum SplitPart
{
    /// <summary>The training images.</summary>
    Train,
    /// <summary>The validation images.</summary>
    Validation,
    /// <summary>The held-out test images.</summary>
    Test,
}

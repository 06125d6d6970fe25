namespace ImageCaptioning.Synthetic;

/// <summary>The kinds of shape a synthetic image can hold; captions name them by their lower-case enum name.</summary>
public enum SyntheticShape
{
    /// <summary>A filled disc.</summary>
    Circle,

    /// <summary>An axis-aligned filled square.</summary>
    Square,

    /// <summary>An upward-pointing equilateral triangle.</summary>
    Triangle,

    /// <summary>A five-pointed star, one point up.</summary>
    Star,

    /// <summary>A plus-shaped cross.</summary>
    Cross,
}

namespace ImageCaptioning.Synthetic;

/// <summary>How large a shape is drawn relative to its grid cell.</summary>
public enum SyntheticSize
{
    /// <summary>About a quarter of the cell across; captions say "small" or "little".</summary>
    Small,

    /// <summary>Nearly fills the cell; captions say "large" or "big".</summary>
    Large,
}

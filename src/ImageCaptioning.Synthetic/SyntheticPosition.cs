namespace ImageCaptioning.Synthetic;

/// <summary>
/// The cells of the 3×3 grid an image is divided into. A shape lies entirely inside its cell, and no two shapes
/// of one image share a cell. The values are in reading order: row-major, top row first.
/// </summary>
public enum SyntheticPosition
{
    /// <summary>Top row, left column: "in the top left corner".</summary>
    TopLeft,

    /// <summary>Top row, middle column: "at the top".</summary>
    Top,

    /// <summary>Top row, right column: "in the top right corner".</summary>
    TopRight,

    /// <summary>Middle row, left column: "on the left".</summary>
    Left,

    /// <summary>The middle cell: "in the center".</summary>
    Center,

    /// <summary>Middle row, right column: "on the right".</summary>
    Right,

    /// <summary>Bottom row, left column: "in the bottom left corner".</summary>
    BottomLeft,

    /// <summary>Bottom row, middle column: "at the bottom".</summary>
    Bottom,

    /// <summary>Bottom row, right column: "in the bottom right corner".</summary>
    BottomRight,
}

namespace ImageCaptioning.Synthetic;

/// <summary>How a caption places one shape against another instead of naming its cell.</summary>
internal enum SceneRelationKind
{
    /// <summary>"to the right of": the same row, a column further right.</summary>
    RightOf,

    /// <summary>"to the left of": the same row, a column further left.</summary>
    LeftOf,

    /// <summary>"below": the same column, a row further down.</summary>
    Below,

    /// <summary>"above": the same column, a row further up.</summary>
    Above,
}

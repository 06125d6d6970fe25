namespace ImageCaptioning.Synthetic;

/// <summary>What a word or phrase of a caption is to <see cref="SceneCaptionParser"/>.</summary>
internal enum SceneTokenKind
{
    /// <summary>"and" or a comma: ends a clause.</summary>
    Separator,

    /// <summary>A size word; the value is the <see cref="SyntheticSize"/>.</summary>
    Size,

    /// <summary>A colour word; the text is the name.</summary>
    Color,

    /// <summary>A shape word; the value is the <see cref="SyntheticShape"/>.</summary>
    Shape,

    /// <summary>A position phrase; the value is the <see cref="SyntheticPosition"/>.</summary>
    Position,

    /// <summary>A relation phrase; the value is the <see cref="SceneRelationKind"/>.</summary>
    Relation,

    /// <summary>A number word; the value is the number.</summary>
    Number,

    /// <summary>"shapes", after a number word.</summary>
    ShapesNoun,

    /// <summary>"is", which can put a size after its shape ("the red circle ... is large").</summary>
    Is,

    /// <summary>An object built from adjacent attribute words; the value is its index among the parsed objects.</summary>
    Mention,

    /// <summary>Words that are no part of the grammar, or a position phrase that names no cell.</summary>
    Unparsed,
}

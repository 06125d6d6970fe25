namespace ImageCaptioning.Synthetic;

/// <summary>
/// A relation a caption states between two of its objects, by their indexes in
/// <see cref="ParsedSceneCaption.Objects"/>: "the <paramref name="Subject"/> is <paramref name="Kind"/> the
/// <paramref name="Reference"/>".
/// </summary>
/// <remarks>
/// The grammar says "to the right of" and "below" only of shapes sharing a row or a column, so a relation holds
/// only in that line; the inverse relations a model may produce are read the same way.
/// </remarks>
internal readonly record struct SceneRelation(int Subject, int Reference, SceneRelationKind Kind)
{
    /// <summary>Whether shapes in these cells bear the relation out.</summary>
    public bool Holds(SyntheticPosition subject, SyntheticPosition reference)
    {
        var (rowStep, columnStep) = ((int)subject / 3 - (int)reference / 3, (int)subject % 3 - (int)reference % 3);
        return Kind switch
        {
            SceneRelationKind.RightOf => rowStep == 0 && columnStep > 0,
            SceneRelationKind.LeftOf => rowStep == 0 && columnStep < 0,
            SceneRelationKind.Below => columnStep == 0 && rowStep > 0,
            SceneRelationKind.Above => columnStep == 0 && rowStep < 0,
            _ => false,
        };
    }
}

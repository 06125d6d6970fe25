namespace ImageCaptioning.Modeling;

/// <summary>
/// The one place the training losses drop padding: the vocabulary projection is the costliest layer of a step, so
/// every model projects only the hidden rows whose target is a real token.
/// </summary>
internal static class RealTargets
{
    /// <summary>
    /// The rows of <paramref name="hidden"/> [B, T, H] whose target in <paramref name="targets"/> [B, T] is not
    /// <paramref name="padId"/>, as [N, H], with those targets, [N]. The tensors belong to the caller's dispose scope.
    /// </summary>
    public static (Tensor Rows, Tensor Targets) Select(Tensor hidden, Tensor targets, int padId)
    {
        var flatTargets = targets.reshape(-1);
        var real = flatTargets.ne(padId).nonzero().squeeze(1);
        return (hidden.reshape(-1, hidden.size(2)).index_select(0, real), flatTargets.index_select(0, real));
    }
}

using System.Runtime.CompilerServices;

namespace ImageCaptioning.Modeling;

/// <summary>The argument checks shared by the models that read a grid of features per image.</summary>
internal static class GridArguments
{
    /// <summary>Throws unless <paramref name="features"/> is [N, cells, <paramref name="featureDimension"/>].</summary>
    public static void CheckFeatures(Tensor features, int featureDimension, [CallerArgumentExpression(nameof(features))] string name = "")
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.ndim != 3 || features.size(2) != featureDimension)
            throw new ArgumentException($"features must be [N, cells, {featureDimension}], got [{string.Join(", ", features.shape)}]", name);
    }

    /// <summary>Throws unless <paramref name="id"/> is a token id of a <paramref name="vocabulary"/>-token vocabulary.</summary>
    public static void CheckTokenId(int id, int vocabulary, [CallerArgumentExpression(nameof(id))] string name = "")
    {
        if ((uint)id >= (uint)vocabulary)
            throw new ArgumentOutOfRangeException(name, id, $"not a token id of the {vocabulary}-token vocabulary");
    }

    /// <summary>Throws unless <paramref name="targets"/> has the shape of <paramref name="inputs"/>, [B, T].</summary>
    public static void CheckTargets(Tensor inputs, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (!targets.shape.SequenceEqual(inputs.shape))
            throw new ArgumentException($"targets must have the inputs' shape [{string.Join(", ", inputs.shape)}], got [{string.Join(", ", targets.shape)}]", nameof(targets));
    }
}

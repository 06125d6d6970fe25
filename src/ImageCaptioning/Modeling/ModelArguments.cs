using System.Runtime.CompilerServices;

namespace ImageCaptioning.Modeling;

/// <summary>The argument checks shared by the caption models.</summary>
internal static class ModelArguments
{
    /// <summary>Throws unless <paramref name="features"/> is [N, cells, <paramref name="featureDimension"/>].</summary>
    public static void CheckFeatures(Tensor features, int featureDimension, [CallerArgumentExpression(nameof(features))] string name = "")
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.ndim != 3 || features.size(2) != featureDimension)
            throw new ArgumentException($"features must be [N, cells, {featureDimension}], got [{string.Join(", ", features.shape)}]", name);
    }

    /// <summary>
    /// The grid [N, P, C] a grid model reads from <paramref name="features"/>: the encoder's output for pixel rows
    /// [N, encoder input] when there is an encoder; otherwise <paramref name="features"/> itself when it is a grid
    /// [N, P, C] (of any P), or a flattened channels-last grid [N, P·C] reshaped. The caller owns the result.
    /// </summary>
    public static Tensor Grid(Tensor features, ImageEncoder? encoder, int channels, [CallerArgumentExpression(nameof(features))] string name = "")
    {
        CheckGridInput(features, encoder, channels, name);
        if (encoder is not null) return encoder.forward(features);
        return features.ndim == 3 ? features.alias() : features.reshape(features.size(0), -1, channels);
    }

    /// <summary>Throws unless <see cref="Grid"/> can read <paramref name="features"/>.</summary>
    public static void CheckGridInput(Tensor features, ImageEncoder? encoder, int channels, [CallerArgumentExpression(nameof(features))] string name = "")
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (encoder is not null)
        {
            if (features.ndim != 2 || features.size(1) != encoder.InputDimension)
                throw new ArgumentException($"features must be image rows [N, {encoder.InputDimension}] for the encoder, got [{string.Join(", ", features.shape)}]", name);
        }
        else if (features.ndim == 2)
        {
            if (features.size(1) == 0 || features.size(1) % channels != 0)
                throw new ArgumentException($"features must be flattened channels-last grids [N, P·{channels}], got [{string.Join(", ", features.shape)}]", name);
        }
        else CheckFeatures(features, channels, name);
    }

    /// <summary>The square grid of <paramref name="cells"/> cells, or null when it is not a square.</summary>
    public static (int Rows, int Columns)? SquareGrid(int cells)
    {
        var side = (int)Math.Round(Math.Sqrt(cells));
        return side * side == cells ? (side, side) : null;
    }

    /// <summary>Throws unless <paramref name="encoder"/> gives grids of <paramref name="cells"/> cells of <paramref name="channels"/> channels.</summary>
    public static void CheckEncoder(ImageEncoder? encoder, int cells, int channels)
    {
        if (encoder is null) return;
        if (encoder.Channels != channels)
            throw new ArgumentException($"the encoder gives {encoder.Channels} channels per cell but the options' FeatureDimension is {channels}", nameof(encoder));
        if (encoder.Cells != cells)
            throw new ArgumentException($"the encoder gives {encoder.Cells} grid cells but the options' GridCells is {cells}", nameof(encoder));
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

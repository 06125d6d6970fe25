using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// An extractor of a CNN's last feature map, for attention models: a grid of <see cref="GridHeight"/> ×
/// <see cref="GridWidth"/> cells of <see cref="CellChannels"/> values. A row holds the cells in row-major order,
/// each cell's channels together: <c>[GridHeight, GridWidth, CellChannels]</c> flattened, so reshaping a row to
/// <c>[cells, CellChannels]</c> gives the annotation vectors.
/// </summary>
public abstract class GridFeatureExtractor : FeatureExtractor
{
    /// <summary>Takes ownership of <paramref name="network"/>, which maps images to <c>[B, channels, grid.Height, grid.Width]</c>.</summary>
    private protected GridFeatureExtractor(torch.nn.Module<Tensor, Tensor> network, string name, (int Height, int Width) grid, int channels,
        FeatureExtractorOptions options, ILogger? logger)
        : base(network, name, checked(grid.Height * grid.Width * channels), options, logger)
    {
        (GridHeight, GridWidth) = grid;
        CellChannels = channels;
    }

    /// <summary>Rows of the grid.</summary>
    public int GridHeight { get; }

    /// <summary>Columns of the grid.</summary>
    public int GridWidth { get; }

    /// <summary>Values per cell.</summary>
    public int CellChannels { get; }

    /// <inheritdoc />
    protected override Tensor Flatten(Tensor output)
    {
        using var cells = FeatureGrid.Cells(output);
        return cells.flatten(1);
    }
}

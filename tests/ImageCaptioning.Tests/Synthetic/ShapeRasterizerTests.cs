using ImageCaptioning.Synthetic;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

[TestFixture]
public sealed class ShapeRasterizerTests
{
    private const int Size = 200;
    private static readonly SyntheticColor Paint = SyntheticColor.Red;

    /// <summary>Draws one shape on a black canvas and returns which pixels were painted.</summary>
    private static bool[,] Draw(SyntheticShape shape, double x, double y, double radius)
    {
        var rgb = new byte[Size * Size * 3];
        var canvas = new ShapeRasterizer(rgb, Size, Size);
        canvas.Fill(SyntheticColor.Black);
        canvas.Draw(new SyntheticObject(shape, Paint, SyntheticSize.Large, SyntheticPosition.Center, x, y, radius));
        var painted = new bool[Size, Size];
        for (var py = 0; py < Size; py++)
            for (var px = 0; px < Size; px++)
            {
                var o = ((py * Size) + px) * 3;
                var red = (rgb[o], rgb[o + 1], rgb[o + 2]) == (Paint.R, Paint.G, Paint.B);
                Assert.That(red || (rgb[o], rgb[o + 1], rgb[o + 2]) == (SyntheticColor.Black.R, SyntheticColor.Black.G, SyntheticColor.Black.B), "no blending");
                painted[px, py] = red;
            }
        return painted;
    }

    private static int Count(bool[,] painted) => painted.Cast<bool>().Count(p => p);

    // Areas of the shapes inscribed in a circle of radius r, from the rasteriser's documented proportions.
    [TestCase(SyntheticShape.Circle, 1.0 * Math.PI)]
    [TestCase(SyntheticShape.Square, 2.0)] // inscribed: diagonal 2
    [TestCase(SyntheticShape.Triangle, 3 * 1.7320508075688772 / 4)] // equilateral, circumradius 1
    [TestCase(SyntheticShape.Star, 10 * 0.5 * 0.45 * 0.5877852522924731)] // 10 triangles of sides 1 and 0.45 at 36°
    [TestCase(SyntheticShape.Cross, (2 * 0.6 * 1.84) - (0.6 * 0.6))]
    public void Painted_area_matches_the_geometric_area(SyntheticShape shape, double unitArea)
    {
        const double radius = 60;
        var painted = Draw(shape, 100.3, 99.7, radius);

        var expected = unitArea * radius * radius;
        Assert.That(Count(painted), Is.EqualTo(expected).Within(2).Percent);
    }

    [TestCase(SyntheticShape.Circle)]
    [TestCase(SyntheticShape.Square)]
    [TestCase(SyntheticShape.Triangle)]
    [TestCase(SyntheticShape.Star)]
    [TestCase(SyntheticShape.Cross)]
    public void Shapes_cover_their_centre_and_stay_inside_their_circle(SyntheticShape shape)
    {
        const double x = 87.4, y = 112.9, radius = 30;
        var painted = Draw(shape, x, y, radius);

        Assert.That(painted[(int)x, (int)y], Is.True);
        for (var py = 0; py < Size; py++)
            for (var px = 0; px < Size; px++)
                if (painted[px, py])
                    Assert.That(Math.Sqrt(Math.Pow(px + 0.5 - x, 2) + Math.Pow(py + 0.5 - y, 2)), Is.LessThanOrEqualTo(radius), $"({px}, {py})");
    }

    [Test]
    public void A_pixel_aligned_square_paints_exactly_its_pixels()
    {
        // Inscribed in radius 20√2: half side 20 around (50, 50), so pixels 30..69 in both directions.
        var painted = Draw(SyntheticShape.Square, 50, 50, 20 * Math.Sqrt(2));

        Assert.That(Count(painted), Is.EqualTo(40 * 40));
        Assert.That((painted[30, 30], painted[69, 69], painted[29, 50], painted[70, 50]), Is.EqualTo((true, true, false, false)));
    }

    [Test]
    public void Shapes_are_mirror_symmetric_about_their_vertical_axis()
    {
        foreach (var shape in Enum.GetValues<SyntheticShape>())
        {
            // A radius that puts no edge exactly on a pixel centre, where the fill rule must pick a side.
            var painted = Draw(shape, 100, 100, 44.3);
            for (var py = 0; py < Size; py++)
                for (var px = 0; px < 100; px++)
                    Assert.That(painted[px, py], Is.EqualTo(painted[199 - px, py]), $"{shape} at ({px}, {py})");
        }
    }

    [Test]
    public void Shapes_crossing_the_border_are_clipped()
    {
        var painted = Draw(SyntheticShape.Circle, 0, 200, 40);

        Assert.That(Count(painted), Is.EqualTo(Math.PI * 40 * 40 / 4).Within(2).Percent);
    }
}

namespace ImageCaptioning.Synthetic;

/// <summary>
/// Fills shapes into an interleaved RGB buffer. A pixel is painted when its centre (x + 0.5, y + 0.5) lies inside
/// the shape: no anti-aliasing, so every pixel is either the shape's colour or untouched, which keeps the images
/// exactly reproducible and the colours unambiguous.
/// </summary>
internal readonly ref struct ShapeRasterizer
{
    // Proportions relative to the radius of the circle each shape is inscribed in. Chosen so that every shape
    // covers its centre generously (JPEG blurs small details) and all kinds look similarly heavy.
    private const double SquareHalfSide = 0.7071067811865476; // inscribed: corners on the circle
    private const double StarInnerRadius = 0.45;
    private const double CrossHalfWidth = 0.3;
    private const double CrossHalfLength = 0.92;

    private readonly Span<byte> rgb;
    private readonly int width;
    private readonly int height;

    public ShapeRasterizer(Span<byte> rgb, int width, int height)
    {
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"a {width}x{height} canvas needs {width * height * 3} bytes but has {rgb.Length}", nameof(rgb));
        this.rgb = rgb;
        this.width = width;
        this.height = height;
    }

    public void Fill(SyntheticColor color)
    {
        for (var i = 0; i < rgb.Length; i += 3)
        {
            rgb[i] = color.R;
            rgb[i + 1] = color.G;
            rgb[i + 2] = color.B;
        }
    }

    public void Draw(SyntheticObject item)
    {
        var (x, y, r) = (item.CenterX, item.CenterY, item.Radius);
        switch (item.Shape)
        {
            case SyntheticShape.Circle:
                FillCircle(x, y, r, item.Color);
                break;
            case SyntheticShape.Square:
                var h = r * SquareHalfSide;
                FillPolygon([(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)], item.Color);
                break;
            case SyntheticShape.Triangle:
                FillPolygon(RegularPolygon(x, y, r, r, 3), item.Color);
                break;
            case SyntheticShape.Star:
                FillPolygon(RegularPolygon(x, y, r, r * StarInnerRadius, 10), item.Color);
                break;
            case SyntheticShape.Cross:
                var (w, l) = (r * CrossHalfWidth, r * CrossHalfLength);
                FillPolygon(
                [
                    (x - w, y - l), (x + w, y - l), (x + w, y - w), (x + l, y - w), (x + l, y + w), (x + w, y + w),
                    (x + w, y + l), (x - w, y + l), (x - w, y + w), (x - l, y + w), (x - l, y - w), (x - w, y - w),
                ], item.Color);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(item), item.Shape, "unknown shape");
        }
    }

    public void FillCircle(double centerX, double centerY, double radius, SyntheticColor color)
    {
        var (top, bottom) = RowRange(centerY - radius, centerY + radius);
        for (var y = top; y <= bottom; y++)
        {
            var dy = y + 0.5 - centerY;
            var squared = (radius * radius) - (dy * dy);
            if (squared < 0) continue;
            var half = Math.Sqrt(squared);
            // Pixels whose centre x + 0.5 lies in [centerX - half, centerX + half].
            FillSpan(y, (int)Math.Ceiling(centerX - half - 0.5), (int)Math.Floor(centerX + half - 0.5), color);
        }
    }

    /// <summary>Fills a simple polygon (convex or not) by the even-odd rule, sampling each row at pixel centres.</summary>
    public void FillPolygon(ReadOnlySpan<(double X, double Y)> vertices, SyntheticColor color)
    {
        var minY = double.MaxValue;
        var maxY = double.MinValue;
        foreach (var (_, vy) in vertices)
        {
            minY = Math.Min(minY, vy);
            maxY = Math.Max(maxY, vy);
        }

        Span<double> crossings = stackalloc double[vertices.Length];
        var (top, bottom) = RowRange(minY, maxY);
        for (var y = top; y <= bottom; y++)
        {
            var sampleY = y + 0.5;
            var count = 0;
            for (var i = 0; i < vertices.Length; i++)
            {
                var (x0, y0) = vertices[i];
                var (x1, y1) = vertices[(i + 1) % vertices.Length];
                // Half-open in y so a vertex on the sample line is counted once, and horizontal edges never.
                if ((y0 <= sampleY && sampleY < y1) || (y1 <= sampleY && sampleY < y0))
                    crossings[count++] = x0 + ((sampleY - y0) * (x1 - x0) / (y1 - y0));
            }
            var row = crossings[..count];
            row.Sort();
            for (var i = 0; i + 1 < count; i += 2)
                // Pixels whose centre x + 0.5 lies in [row[i], row[i + 1]).
                FillSpan(y, (int)Math.Ceiling(row[i] - 0.5), (int)Math.Ceiling(row[i + 1] - 0.5) - 1, color);
        }
    }

    /// <summary>
    /// The vertices of a regular polygon, or of a star when <paramref name="inner"/> differs from
    /// <paramref name="outer"/> (vertices alternate between the two radii), starting straight up.
    /// </summary>
    private static (double X, double Y)[] RegularPolygon(double centerX, double centerY, double outer, double inner, int count)
    {
        var vertices = new (double X, double Y)[count];
        for (var i = 0; i < count; i++)
        {
            var angle = (-Math.PI / 2) + (2 * Math.PI * i / count);
            var radius = i % 2 == 0 ? outer : inner;
            vertices[i] = (centerX + (radius * Math.Cos(angle)), centerY + (radius * Math.Sin(angle)));
        }
        return vertices;
    }

    private (int Top, int Bottom) RowRange(double minY, double maxY) =>
        (Math.Max(0, (int)Math.Floor(minY)), Math.Min(height - 1, (int)Math.Ceiling(maxY)));

    private void FillSpan(int y, int left, int right, SyntheticColor color)
    {
        left = Math.Max(left, 0);
        right = Math.Min(right, width - 1);
        for (var x = left; x <= right; x++)
        {
            var offset = ((y * width) + x) * 3;
            rgb[offset] = color.R;
            rgb[offset + 1] = color.G;
            rgb[offset + 2] = color.B;
        }
    }
}

namespace ImageCaptioning.Synthetic;

/// <summary>
/// A named colour for shapes or backgrounds. The name is the word captions use, so it is one lower-case word of
/// ASCII letters that survives <see cref="Text.CaptionCleaner"/>'s default rules (at least two letters).
/// </summary>
public sealed record SyntheticColor
{
    /// <summary>Creates a colour named <paramref name="name"/> with the given 8-bit sRGB components.</summary>
    /// <exception cref="ArgumentException">The name is not a lower-case ASCII word of at least two letters.</exception>
    public SyntheticColor(string name, byte r, byte g, byte b)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length < 2 || !name.All(c => c is >= 'a' and <= 'z'))
            throw new ArgumentException($"a colour name is the word captions use: one lower-case word of ASCII letters, at least two long, but got '{name}'", nameof(name));
        Name = name;
        R = r;
        G = g;
        B = b;
    }

    /// <summary>The word captions use for this colour.</summary>
    public string Name { get; }

    /// <summary>Red component.</summary>
    public byte R { get; }

    /// <summary>Green component.</summary>
    public byte G { get; }

    /// <summary>Blue component.</summary>
    public byte B { get; }

    /// <summary>Red (220, 30, 30).</summary>
    public static SyntheticColor Red { get; } = new("red", 220, 30, 30);

    /// <summary>Green (40, 170, 60).</summary>
    public static SyntheticColor Green { get; } = new("green", 40, 170, 60);

    /// <summary>Blue (40, 80, 220).</summary>
    public static SyntheticColor Blue { get; } = new("blue", 40, 80, 220);

    /// <summary>Yellow (240, 220, 40).</summary>
    public static SyntheticColor Yellow { get; } = new("yellow", 240, 220, 40);

    /// <summary>White (250, 250, 250).</summary>
    public static SyntheticColor White { get; } = new("white", 250, 250, 250);

    /// <summary>Black (15, 15, 15).</summary>
    public static SyntheticColor Black { get; } = new("black", 15, 15, 15);

    /// <summary>Purple (140, 50, 180).</summary>
    public static SyntheticColor Purple { get; } = new("purple", 140, 50, 180);

    /// <summary>Orange (250, 140, 20).</summary>
    public static SyntheticColor Orange { get; } = new("orange", 250, 140, 20);

    /// <summary>Mid gray (128, 128, 128), the default background.</summary>
    public static SyntheticColor Gray { get; } = new("gray", 128, 128, 128);

    /// <summary>Brown (130, 85, 45).</summary>
    public static SyntheticColor Brown { get; } = new("brown", 130, 85, 45);

    /// <summary>Pink (250, 150, 200).</summary>
    public static SyntheticColor Pink { get; } = new("pink", 250, 150, 200);

    /// <summary>Cyan (40, 210, 220).</summary>
    public static SyntheticColor Cyan { get; } = new("cyan", 40, 210, 220);

    /// <summary>Euclidean distance between two colours in RGB space (0 to about 441).</summary>
    public double DistanceTo(SyntheticColor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var (dr, dg, db) = (R - other.R, G - other.G, B - other.B);
        return Math.Sqrt((dr * dr) + (dg * dg) + (db * db));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({R}, {G}, {B})";
}

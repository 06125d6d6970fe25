using System.Globalization;
using ImageCaptioning.Modeling;
using Microsoft.Extensions.Primitives;

namespace CaptionServer;

/// <summary>A request's decoding, from its query string, checked in full before the upload is read.</summary>
/// <param name="Decoding">The model's default decoding with the request's changes.</param>
/// <param name="Strip">Whether the answer carries the heat-map strip as HTML (the page asks for it).</param>
internal sealed record CaptionQuery(DecodingOptions Decoding, bool Strip)
{
    /// <summary>The query options, as the page and the README name them.</summary>
    public static IReadOnlyList<string> Known { get; } = ["beam", "temperature", "topK", "seed", "maxLength", "strip"];

    /// <summary>Parses the query, or returns why it is wrong (an unknown or repeated option, a value out of range).</summary>
    public static (CaptionQuery? Query, string? Error) Parse(IQueryCollection query, DecodingOptions defaults, CaptionServerOptions limits)
    {
        foreach (var (key, values) in query)
        {
            if (!Known.Contains(key, StringComparer.OrdinalIgnoreCase))
                return (null, $"unknown option '{key}': the options are {string.Join(", ", Known)}");
            if (values.Count != 1) return (null, $"option '{key}' is given {values.Count} times");
        }
        try
        {
            var beam = Integer(query, "beam", 1, limits.MaxBeamWidth);
            var temperature = Number(query, "temperature");
            var topK = Integer(query, "topK", 0, int.MaxValue);
            var seed = Long(query, "seed");
            var maxLength = Integer(query, "maxLength", 1, limits.MaxCaptionLength);
            var strip = Flag(query, "strip");
            if (beam is not null && temperature is not null)
                return (null, "beam and temperature exclude each other: beam search keeps the most likely captions, sampling draws at random");
            if (temperature is null && (topK is not null || seed is not null))
                return (null, "topK and seed apply to sampling: add temperature=T");

            var decoding = defaults;
            if (beam is { } width) decoding = decoding with { Strategy = DecodingStrategy.Beam, BeamWidth = width };
            if (temperature is { } t) decoding = decoding with { Strategy = DecodingStrategy.Sample, Temperature = t, TopK = topK ?? 0, Seed = seed };
            if (maxLength is { } length) decoding = decoding with { MaxLength = length };
            else if (decoding.MaxLength > limits.MaxCaptionLength) decoding = decoding with { MaxLength = limits.MaxCaptionLength };
            // Every answer carries the caption's score.
            return (new CaptionQuery(decoding with { ComputeLogProbability = true }, strip), null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static int? Integer(IQueryCollection query, string key, int least, int most)
    {
        if (Value(query, key) is not { } text) return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw new FormatException($"option '{key}' must be an integer (got '{text}')");
        if (value < least || value > most)
            throw new FormatException(most == int.MaxValue ? $"option '{key}' must be at least {least} (got {value})" : $"option '{key}' must be between {least} and {most} (got {value})");
        return value;
    }

    private static long? Long(IQueryCollection query, string key)
    {
        if (Value(query, key) is not { } text) return null;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"option '{key}' must be an integer (got '{text}')");
    }

    private static double? Number(IQueryCollection query, string key)
    {
        if (Value(query, key) is not { } text) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0 && double.IsFinite(value)))
            throw new FormatException($"option '{key}' must be a positive number (got '{text}')");
        return value;
    }

    private static bool Flag(IQueryCollection query, string key) => Value(query, key) switch
    {
        null => false,
        "" or "true" or "1" => true,
        "false" or "0" => false,
        var text => throw new FormatException($"option '{key}' must be true or false (got '{text}')"),
    };

    private static string? Value(IQueryCollection query, string key) =>
        query.TryGetValue(key, out StringValues values) ? values.ToString() : null;
}

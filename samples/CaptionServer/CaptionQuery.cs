using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace CaptionServer;

/// <summary>The decoding options of a query, each checked on its own; the model checks what it can do with them.</summary>
internal sealed record DecodingRequest(int? Beam = null, double? Temperature = null, int? TopK = null, long? Seed = null, int? MaxLength = null,
    string? Prompt = null);

/// <summary>A request's decoding, from its query string, checked in full before the upload is read.</summary>
/// <param name="Decoding">The model's default decoding with the request's changes.</param>
/// <param name="Strip">Whether the answer carries the heat-map strip as HTML (the page asks for it).</param>
internal sealed record CaptionQuery(RequestDecoding Decoding, bool Strip)
{
    /// <summary>The query options, as the page and the README name them.</summary>
    public static IReadOnlyList<string> Known { get; } = ["beam", "temperature", "topK", "seed", "maxLength", "prompt", "strip"];

    /// <summary>Parses the query, or returns why it is wrong (an unknown or repeated option, a value out of range, one the model cannot follow).</summary>
    public static (CaptionQuery? Query, string? Error) Parse(IQueryCollection query, IServedCaptioner model, CaptionServerOptions limits)
    {
        foreach (var (key, values) in query)
        {
            if (!Known.Contains(key, StringComparer.OrdinalIgnoreCase))
                return (null, $"unknown option '{key}': the options are {string.Join(", ", Known)}");
            if (values.Count != 1) return (null, $"option '{key}' is given {values.Count} times");
        }
        try
        {
            var request = new DecodingRequest(
                Integer(query, "beam", 1, limits.MaxBeamWidth),
                Number(query, "temperature"),
                Integer(query, "topK", 0, int.MaxValue),
                Long(query, "seed"),
                Integer(query, "maxLength", 1, limits.MaxCaptionLength),
                Value(query, "prompt"));
            var strip = Flag(query, "strip");
            return (new CaptionQuery(model.Decoding(request, limits), strip), null);
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

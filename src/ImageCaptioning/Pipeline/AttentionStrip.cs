using System.Globalization;
using System.Net;
using System.Text;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// The heat-map strip of a caption as HTML: one thumbnail per word with that word's attention drawn over the image,
/// as <see cref="Captioner.WriteReport"/> shows it, for a page of one's own (a service's upload page, say). Plain HTML
/// with the CSS of <see cref="Style"/>; no script.
/// </summary>
public static class AttentionStrip
{
    /// <summary>The side of one attention thumbnail, in CSS pixels.</summary>
    public const int ThumbnailSize = 64;

    // The hottest cell is drawn at this opacity, not 1, so the part of the image the word looked at stays visible.
    private const double PeakOpacity = 0.7;

    /// <summary>The CSS rules the strip's markup needs (classes <c>strip</c>, <c>word</c>, <c>thumb</c> and <c>heat</c>).</summary>
    public static string Style { get; } =
        ".strip{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}.word{margin:0;max-width:96px;text-align:center;font-size:12px;overflow-wrap:anywhere}"
        + $".thumb{{position:relative;margin:0 auto;width:{ThumbnailSize}px;height:{ThumbnailSize}px;background:#eee}}"
        // The grid covers the whole image as the encoder saw it: the recipe's resize stretches the image to a square
        // without keeping its aspect ratio, so the thumbnail is stretched the same way for the cells to line up.
        + $".thumb img{{display:block;width:{ThumbnailSize}px;height:{ThumbnailSize}px;object-fit:fill}}"
        + ".heat{position:absolute;inset:0;display:grid}.heat span{background:#f30}";

    /// <summary>The strip of <paramref name="attention"/>: a <c>div.strip</c> of one <c>figure.word</c> per word.</summary>
    /// <param name="attention">The caption's words and their weights.</param>
    /// <param name="imageSource">
    /// The URL of the image, drawn under each word's heat map (HTML-encoded here, so pass it unencoded); null draws the
    /// heat maps alone, for a page that shows the image another way (as a CSS background of <c>.thumb</c>, say).
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="attention"/> is null.</exception>
    public static string Html(CaptionAttention attention, string? imageSource = null)
    {
        ArgumentNullException.ThrowIfNull(attention);
        var html = new StringBuilder();
        Append(html, attention, imageSource is null ? null : WebUtility.HtmlEncode(imageSource));
        return html.ToString();
    }

    // source is the image URL already HTML-encoded, or null for none.
    internal static void Append(StringBuilder html, CaptionAttention attention, string? source)
    {
        html.Append("<div class=\"strip\">");
        for (var w = 0; w < attention.Words.Count; w++)
        {
            var weights = attention.Weights[w];
            var peak = 0;
            for (var c = 1; c < weights.Count; c++)
                if (weights[c] > weights[peak]) peak = c;
            var max = weights[peak];
            html.Append("<figure class=\"word\"><div class=\"thumb\" title=\"")
                .Append(string.Create(CultureInfo.InvariantCulture, $"peak weight {max:F3} at row {peak / attention.GridColumns}, column {peak % attention.GridColumns}"))
                .Append("\">");
            if (source is not null) html.Append("<img src=\"").Append(source).Append("\" alt=\"\">");
            html.Append(string.Create(CultureInfo.InvariantCulture,
                $"<div class=\"heat\" style=\"grid-template:repeat({attention.GridRows},1fr)/repeat({attention.GridColumns},1fr)\">"));
            // A softmax over many cells gives small weights whose scale depends on the grid and on how peaked the word
            // is, so raw weights would be near-invisible; scaled by the word's own peak, every word shows where it
            // looked most. How peaked it was is in the thumbnail's title.
            foreach (var weight in weights)
                html.Append(string.Create(CultureInfo.InvariantCulture, $"<span style=\"opacity:{(max > 0 ? PeakOpacity * weight / max : 0):0.###}\"></span>"));
            html.Append("</div></div><figcaption>").Append(WebUtility.HtmlEncode(attention.Words[w])).Append("</figcaption></figure>");
        }
        html.Append("</div>");
    }
}

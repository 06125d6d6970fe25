using System.Globalization;
using System.Net;
using System.Text;
using ImageCaptioning.Evaluation;
using ImageCaptioning.IO;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// A self-contained HTML page: scores, then each image beside its generated and reference captions and, where the
/// model attends, a strip of thumbnails showing where it looked for each word. Plain HTML and CSS: no script, no
/// external URL; images are linked by relative path, not copied.
/// </summary>
internal static class HtmlReport
{
    /// <summary>Writes the report to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The HTML file; images are linked relative to its folder.</param>
    /// <param name="title">The page's title and heading.</param>
    /// <param name="result">The scores and per-image captions.</param>
    /// <param name="maxImages">How many of the result's images to show, at least 0.</param>
    /// <param name="imagePath">The image file of an image id, or null when there is none.</param>
    /// <param name="attentionOf">
    /// The attention of an image id's generated caption, or null for none (and for every image when this is null): a
    /// non-attention model has none to show.
    /// </param>
    public static void Write(string path, string title, CaptionEvaluationResult result, int maxImages, Func<string, string?> imagePath,
        Func<string, CaptionAttention?>? attentionOf = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfNegative(maxImages);
        ArgumentNullException.ThrowIfNull(imagePath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:6px 10px;vertical-align:top}")
            .Append("img{width:160px;height:160px;object-fit:contain;background:#eee}.generated{font-weight:600;color:#0a5}.refs{margin:0;padding-left:1.2em;color:#555}")
            .Append(".scores td{text-align:right}")
            .Append(AttentionStrip.Style)
            .Append("</style></head><body>\n<h1>").Append(E(title)).Append("</h1>\n");
        html.Append("<table class=\"scores\"><tr><th>BLEU-1</th><th>BLEU-2</th><th>BLEU-3</th><th>BLEU-4</th><th>CIDEr-D</th><th>images</th></tr><tr>")
            .Append($"<td>{F(result.Bleu.Bleu1)}</td><td>{F(result.Bleu.Bleu2)}</td><td>{F(result.Bleu.Bleu3)}</td><td>{F(result.Bleu.Bleu4)}</td><td>{F(result.CiderD)}</td><td>{result.Images.Count}</td>")
            .Append("</tr></table>\n<h2>Images</h2>\n<table><tr><th>image</th><th>captions</th></tr>\n");
        foreach (var image in result.Images.Take(maxImages))
        {
            var file = imagePath(image.ImageId);
            var source = file is null ? "" : E(Uri.EscapeDataString(Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/')).Replace("%2F", "/"));
            html.Append("<tr><td><img src=\"").Append(source).Append("\" alt=\"").Append(E(image.ImageId)).Append("\"><br><small>")
                .Append(E(image.ImageId)).Append("</small></td><td><div class=\"generated\">").Append(E(image.Hypothesis)).Append("</div>");
            if (attentionOf?.Invoke(image.ImageId) is { } attention) AttentionStrip.Append(html, attention, file is null ? null : source);
            html.Append($"<small>BLEU-4 {F(image.SentenceBleu)} · CIDEr-D {F(image.CiderD)}</small><ul class=\"refs\">");
            foreach (var reference in image.References) html.Append("<li>").Append(E(reference)).Append("</li>");
            html.Append("</ul></td></tr>\n");
        }
        html.Append("</table></body></html>\n");
        AtomicFile.Write(path, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(html.ToString());
            stream.Write(bytes);
        });
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}

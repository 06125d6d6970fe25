using System.Globalization;
using System.Net;
using System.Text;
using ImageCaptioning.Evaluation;
using ImageCaptioning.IO;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// A self-contained HTML page: scores, then each image beside its generated and reference captions and, where the
/// model attends, a strip of thumbnails showing where it looked for each word; or, for images without references,
/// each image beside its caption and confidence (<see cref="WriteCaptions"/>). Plain HTML and CSS: no script, no
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
        var html = Head(title);
        html.Append("<table class=\"scores\"><tr><th>BLEU-1</th><th>BLEU-2</th><th>BLEU-3</th><th>BLEU-4</th><th>CIDEr-D</th><th>images</th></tr><tr>")
            .Append($"<td>{F(result.Bleu.Bleu1)}</td><td>{F(result.Bleu.Bleu2)}</td><td>{F(result.Bleu.Bleu3)}</td><td>{F(result.Bleu.Bleu4)}</td><td>{F(result.CiderD)}</td><td>{result.Images.Count}</td>")
            .Append("</tr></table>\n<h2>Images</h2>\n<table><tr><th>image</th><th>captions</th></tr>\n");
        foreach (var image in result.Images.Take(maxImages))
        {
            var file = imagePath(image.ImageId);
            var source = Source(folder, file);
            ImageCell(html, source, image.ImageId);
            html.Append("<td><div class=\"generated\">").Append(E(image.Hypothesis)).Append("</div>");
            if (attentionOf?.Invoke(image.ImageId) is { } attention) AttentionStrip.Append(html, attention, file is null ? null : source);
            html.Append($"<small>BLEU-4 {F(image.SentenceBleu)} · CIDEr-D {F(image.CiderD)}</small><ul class=\"refs\">");
            foreach (var reference in image.References) html.Append("<li>").Append(E(reference)).Append("</li>");
            html.Append("</ul></td></tr>\n");
        }
        Finish(path, html);
    }

    /// <summary>
    /// Writes a page of captioned image files to <paramref name="path"/> atomically: each image beside its caption and
    /// log-probability, or the reason it could not be captioned, in order.
    /// </summary>
    public static void WriteCaptions(string path, string title, IReadOnlyList<CaptionAttempt> attempts)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(attempts);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var html = Head(title);
        var failed = attempts.Count(a => !a.Succeeded);
        html.Append($"<p>{attempts.Count - failed} of {attempts.Count} images captioned</p>\n<table><tr><th>image</th><th>caption</th><th>log p</th></tr>\n");
        foreach (var attempt in attempts)
        {
            ImageCell(html, Source(folder, attempt.Path), Path.GetFileName(attempt.Path));
            if (attempt.Succeeded)
                html.Append("<td><div class=\"generated\">").Append(E(attempt.Caption ?? "")).Append("</div></td><td>")
                    .Append(double.IsNaN(attempt.LogProbability) ? "" : F(attempt.LogProbability)).Append("</td></tr>\n");
            else
                html.Append("<td colspan=\"2\" class=\"error\">").Append(E(attempt.Error!.Message)).Append("</td></tr>\n");
        }
        Finish(path, html);
    }

    private static StringBuilder Head(string title) => new StringBuilder()
        .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
        .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:6px 10px;vertical-align:top}")
        .Append("img{width:160px;height:160px;object-fit:contain;background:#eee}.generated{font-weight:600;color:#0a5}.refs{margin:0;padding-left:1.2em;color:#555}")
        .Append(".scores td{text-align:right}.error{color:#b00}")
        .Append(AttentionStrip.Style)
        .Append("</style></head><body>\n<h1>").Append(E(title)).Append("</h1>\n");

    // An image linked by its path relative to the page's folder (encoded for a URL), "" when there is no file.
    private static string Source(string folder, string? file) =>
        file is null ? "" : E(Uri.EscapeDataString(Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/')).Replace("%2F", "/"));

    private static void ImageCell(StringBuilder html, string source, string name) =>
        html.Append("<tr><td><img src=\"").Append(source).Append("\" alt=\"").Append(E(name)).Append("\"><br><small>").Append(E(name)).Append("</small></td>");

    private static void Finish(string path, StringBuilder html)
    {
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

using ImageCaptioning.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageCaptioning.Evaluation;

public sealed partial class CaptionEvaluationResult
{
    /// <summary>
    /// Writes the corpus scores and the per-image entries as indented JSON, atomically (a temporary file in the same
    /// folder, then a rename), creating the folder if needed.
    /// </summary>
    /// <remarks>
    /// Layout: <c>{"corpus": {"imageCount", "bleu": {"bleu1", …}, "bleuPrecisions", "brevityPenalty",
    /// "hypothesisLength", "referenceLength", "bleuSmoothing", "ciderD"}, "images": [{"imageId", "hypothesis",
    /// "references", "ciderD", "sentenceBleu"}]}</c>. Numbers round-trip exactly.
    /// </remarks>
    /// <param name="path">The file to create or replace.</param>
    public void WriteJson(string path) => AtomicFile.Write(path, WriteJson);

    /// <summary>Writes the JSON of <see cref="WriteJson(string)"/> to a stream.</summary>
    /// <param name="stream">A writable stream; it is left open.</param>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonSerializer.Serialize(stream, ToDocument(), EvaluationJsonContext.Default.EvaluationReportDocument);
    }

    private EvaluationReportDocument ToDocument()
    {
        var bleu = new Dictionary<string, double>(Bleu.MaxOrder);
        for (var order = 1; order <= Bleu.MaxOrder; order++) bleu[$"bleu{order}"] = Bleu.Score(order);
        var corpus = new CorpusScoresDocument(
            Images.Count, bleu, Bleu.Precisions, Bleu.BrevityPenalty, Bleu.HypothesisLength, Bleu.ReferenceLength,
            Bleu.Smoothing, CiderD);
        var images = Images
            .Select(image => new ImageEvaluationDocument(image.ImageId, image.Hypothesis, image.References, image.CiderD, image.SentenceBleu))
            .ToArray();
        return new EvaluationReportDocument(corpus, images);
    }
}

internal sealed record EvaluationReportDocument(CorpusScoresDocument Corpus, IReadOnlyList<ImageEvaluationDocument> Images);

internal sealed record CorpusScoresDocument(
    int ImageCount,
    IReadOnlyDictionary<string, double> Bleu,
    IReadOnlyList<double> BleuPrecisions,
    double BrevityPenalty,
    long HypothesisLength,
    long ReferenceLength,
    BleuSmoothing BleuSmoothing,
    double CiderD);

internal sealed record ImageEvaluationDocument(
    string ImageId,
    string Hypothesis,
    IReadOnlyList<string> References,
    double CiderD,
    double SentenceBleu);

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(EvaluationReportDocument))]
internal sealed partial class EvaluationJsonContext : JsonSerializerContext;

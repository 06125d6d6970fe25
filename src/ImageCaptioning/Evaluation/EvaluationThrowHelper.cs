using System.Diagnostics.CodeAnalysis;

namespace ImageCaptioning.Evaluation;

/// <summary>The exceptions of the evaluation area, worded so a bad corpus points at the offending item.</summary>
internal static class EvaluationThrowHelper
{
    [DoesNotReturn]
    public static void ThrowCountMismatch(int hypotheses, int referenceLists, string parameterName) =>
        throw new ArgumentException(
            $"Every hypothesis needs its own list of references: got {hypotheses} hypotheses but {referenceLists} reference lists.",
            parameterName);

    [DoesNotReturn]
    public static void ThrowNullItem(string what, string parameterName) =>
        throw new ArgumentException($"{what} is null.", parameterName);

    [DoesNotReturn]
    public static void ThrowNoReferences(string item, string parameterName) =>
        throw new ArgumentException($"The reference list of {item} is empty; every hypothesis needs at least one reference.", parameterName);

    [DoesNotReturn]
    public static void ThrowDuplicateImage(string imageId, int first, int second, string parameterName) =>
        throw new ArgumentException(
            $"Image '{imageId}' appears twice (items {first} and {second}); each image is evaluated once with all its references.",
            parameterName);

    [DoesNotReturn]
    public static void ThrowEmptyCorpus(string metric, string parameterName) =>
        throw new ArgumentException($"{metric} needs at least one image.", parameterName);
}

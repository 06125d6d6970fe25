namespace DataGenerators;

/// <summary>One batch of an <see cref="ArraySequence{TX, TY}"/>: inputs and their targets, pairwise aligned.</summary>
/// <param name="X">The inputs.</param>
/// <param name="Y">The targets.</param>
public sealed record ArrayBatch<TX, TY>(TX[] X, TY[] Y);

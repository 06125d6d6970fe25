using ImageCaptioning.Data;
using ImageCaptioning.Vision;

namespace DataGenerators;

/// <summary>
/// Settings of an <see cref="ImageCsvSequence"/>: batching and seeded per-epoch shuffling as for every
/// <see cref="Sequence{TBatch}"/> (<see cref="SequenceOptions.BatchSize"/> 32 by default), except that shuffling is
/// off by default, the CSV order being the natural one.
/// </summary>
public sealed record ImageCsvSequenceOptions : SequenceOptions
{
    /// <summary>Creates the default settings (no shuffling).</summary>
    public ImageCsvSequenceOptions() => Shuffle = false;

    /// <summary>
    /// Folder the CSV's file names are relative to. Null (the default) means the folder holding the CSV. Absolute
    /// file names are used as they are.
    /// </summary>
    public string? ImageDirectory { get; init; }

    /// <summary>Header name of the image file column. Null (the default) means the first column.</summary>
    public string? FileColumn { get; init; }

    /// <summary>
    /// Header names of the numeric label columns, in the order of the label tensor's columns (e.g. x, y, h, w).
    /// Null (the default) means every column except the file column, in file order.
    /// </summary>
    public IReadOnlyList<string>? LabelColumns { get; init; }

    /// <summary>Field separator. Default ','.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>
    /// How images become tensors; it must give a fixed output size (an exact resize or a crop). Default: the
    /// recipe's <see cref="ImageTransformOptions.Recipe224"/>.
    /// </summary>
    public ImageTransformOptions Transform
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(Transform));
    } = ImageTransformOptions.Recipe224;

    /// <summary>Images of one batch decoded at once. Default: the processor count.</summary>
    public int DecodeThreads
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = Environment.ProcessorCount;

    /// <summary>Where batches are delivered. Default: CPU.</summary>
    public Device Device { get; init; } = torch.CPU;

    /// <summary>
    /// Decoding limits and behaviour. Default: <see cref="ImageDecoderOptions.ForConcurrentDecoding"/> for
    /// <see cref="DecodeThreads"/>, a pixel limit at which that many images decoded at once fit in half the memory.
    /// </summary>
    public ImageDecoderOptions Decoder
    {
        get => field ?? ImageDecoderOptions.ForConcurrentDecoding(DecodeThreads);
        init => field = value ?? throw new ArgumentNullException(nameof(Decoder));
    }
}

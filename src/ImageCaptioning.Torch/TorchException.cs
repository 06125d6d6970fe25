namespace ImageCaptioning.Torch;

/// <summary>An error raised inside libtorch (a shape mismatch, an index out of range, ...), with libtorch's message.</summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates the exception with libtorch's message.</summary>
    public TorchException(string message) : base(message)
    {
    }
}

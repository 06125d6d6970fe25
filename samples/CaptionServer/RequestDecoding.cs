namespace CaptionServer;

/// <summary>
/// A request's decoding as its model understands it. Equal values share a forward pass, so each kind is a record of
/// the settings its captioner is called with.
/// </summary>
internal abstract record RequestDecoding
{
    /// <summary>The settings as the answer shows them.</summary>
    public abstract DecodingDescription Shown { get; }

    /// <summary>
    /// Whether the request must be captioned alone in its forward pass: a seed reseeds libtorch's generator for the
    /// whole pass, so only alone does a seeded request get the same caption whatever else is queued.
    /// </summary>
    public virtual bool Alone => false;
}

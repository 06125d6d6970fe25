using static ImageCaptioning.Torch.torch;

namespace ImageCaptioning.Torch.Modules;

/// <summary>A lookup table of vectors; the padding row starts at zero and receives no gradient (torch.nn.Embedding).</summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the table, N(0, 1) with the padding row zeroed.</summary>
    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, Device? device = null)
    {
        if (padding_idx is { } p)
        {
            if (p < -num_embeddings || p >= num_embeddings)
                throw new ArgumentOutOfRangeException(nameof(padding_idx), p, $"must be within the {num_embeddings} embeddings");
            padding_idx = p < 0 ? p + num_embeddings : p;
        }
        this.padding_idx = padding_idx;
        using var scope = NewDisposeScope();
        var w = empty([num_embeddings, embedding_dim], device: device);
        nn.init.normal_(w);
        if (padding_idx is { } row) w.select(0, row).fill_(0);
        weight = register_parameter("weight", new Parameter(w))!;
    }

    /// <summary>[num_embeddings, embedding_dim].</summary>
    public Parameter weight { get; }

    /// <summary>The row that encodes padding, if any.</summary>
    public long? padding_idx { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.embedding(input, weight, padding_idx);
}

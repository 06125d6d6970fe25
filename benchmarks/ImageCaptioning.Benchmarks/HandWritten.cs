using ImageCaptioning.Modeling;
using ImageCaptioning.Torch.Runtime;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// The PyTorch notebook's captioning model as a TorchSharp user would write it by hand (the same layers, names and
/// forward as tests/Shared/reference/recipe_model.py): the second reference of the benchmarks, which differs from
/// the library only in how the recipe is computed, not in the engine.
/// </summary>
internal sealed class NotebookCaptionModel : torch.nn.Module<Tensor, Tensor, Tensor>
{
    public readonly Linear img_to_h, img_to_c, fc;
    public readonly Embedding embedding;
    public readonly LSTM lstm;

    public NotebookCaptionModel(int vocabulary, int features = 4096, int embed = 256, int hidden = 256, int pad = 0) : base(nameof(NotebookCaptionModel))
    {
        img_to_h = torch.nn.Linear(features, hidden);
        img_to_c = torch.nn.Linear(features, hidden);
        embedding = torch.nn.Embedding(vocabulary, embed, padding_idx: pad);
        lstm = torch.nn.LSTM(embed, hidden, batchFirst: true);
        fc = torch.nn.Linear(hidden, vocabulary);
        RegisterComponents();
    }

    /// <summary>Logits at every position, [B, T, V], padding included.</summary>
    public override Tensor forward(Tensor img, Tensor caps)
    {
        using var scope = torch.NewDisposeScope();
        var h0 = torch.tanh(img_to_h.call(img)).unsqueeze(0);
        var c0 = torch.tanh(img_to_c.call(img)).unsqueeze(0);
        var (output, _, _) = lstm.call(embedding.call(caps), (h0, c0));
        return fc.call(output).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The notebook's model holding the library model's weights (the state_dict names are the recipe's on both
    /// sides), so that both decode the same captions and train from the same point.
    /// </summary>
    public static NotebookCaptionModel CopyOf(LstmCaptionModel model)
    {
        var copy = new NotebookCaptionModel(model.Options.VocabularySize, model.Options.FeatureDimension, model.Options.EmbeddingSize,
            model.Options.HiddenSize, model.Options.PadId);
        copy.load_state_dict(model.state_dict());
        return copy;
    }
}

internal static class HandWritten
{
    /// <summary>
    /// The thread settings the library applies when it loads (IMAGECAPTIONING_NUM_THREADS, else the logical core
    /// count): a hand-written case may run before any library code in the process, and both sides must compute with
    /// the same number of intra-op threads.
    /// </summary>
    public static void SameThreadsAsTheLibrary() => TorchRuntime.EnsureLoaded();
}

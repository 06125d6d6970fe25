namespace ImageCaptioning.Modeling;

/// <summary>
/// The Keras recipe's merge decoder: image → Dense + ReLU, caption → Embedding → LSTM, added, then Dense + ReLU
/// and the output layer. Names: img_fc, embedding, lstm, decoder_fc, fc.
/// </summary>
internal sealed class MergeCaptionModel : LstmCaptionModel
{
    private readonly Linear imgFc, decoderFc, fc;
    private readonly Embedding embedding;
    private readonly LSTM lstm;

    public MergeCaptionModel(CaptionModelOptions o) : base(o)
    {
        imgFc = this.Register("img_fc", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        lstm = this.Register("lstm", torch.nn.LSTM(o.EmbeddingSize, o.HiddenSize, o.Layers, batchFirst: true, dropout: o.Dropout));
        decoderFc = this.Register("decoder_fc", torch.nn.Linear(o.HiddenSize, o.HiddenSize));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
    }

    public override Tensor Hidden(Tensor features, Tensor tokens, Tensor? featureIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var image = Rows(ProjectImage(features), featureIndex);
        var (output, _, _) = RecordedLstm.Forward(lstm, Drop(embedding.forward(tokens)));
        return decoderFc.forward(output + image.unsqueeze(1)).relu().MoveToOuterDisposeScope();
    }

    private protected override Linear OutputLayer => fc;

    public override DecoderState Begin(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var image = ProjectImage(features);
        var zeros = torch.zeros([Options.Layers, image.size(0), Options.HiddenSize], device: image.device);
        return new DecoderState(zeros, zeros.clone(), image);
    }

    private protected override (Tensor Hidden, DecoderState State) StepHidden(Tensor tokens, DecoderState state)
    {
        var image = state.Image ?? throw new InvalidOperationException("a merge decoder state carries the projected image");
        var (output, h, c) = LstmStep(lstm, embedding.forward(tokens), state);
        return (decoderFc.forward(output + image).relu(), new DecoderState(h, c, image.alias()));
    }

    private Tensor ProjectImage(Tensor features) => imgFc.forward(Drop(features)).relu();
}

namespace ImageCaptioning.Modeling;

/// <summary>
/// The recipe's init-inject decoder with its state_dict names: img_to_h, img_to_c, embedding, lstm, fc.
/// </summary>
internal sealed class InitInjectCaptionModel : LstmCaptionModel
{
    private readonly Linear imgToH, imgToC, fc;
    private readonly Embedding embedding;
    private readonly LSTM lstm;

    public InitInjectCaptionModel(CaptionModelOptions o) : base(o)
    {
        imgToH = this.Register("img_to_h", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        imgToC = this.Register("img_to_c", torch.nn.Linear(o.FeatureDimension, o.HiddenSize));
        embedding = this.Register("embedding", torch.nn.Embedding(o.VocabularySize, o.EmbeddingSize, padding_idx: o.PadId));
        lstm = this.Register("lstm", torch.nn.LSTM(o.EmbeddingSize, o.HiddenSize, o.Layers, batchFirst: true, dropout: o.Dropout));
        fc = this.Register("fc", torch.nn.Linear(o.HiddenSize, o.VocabularySize));
    }

    public override Tensor Hidden(Tensor features, Tensor tokens, Tensor? featureIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var (h0, c0) = InitialState(features, featureIndex);
        var (output, _, _) = RecordedLstm.Forward(lstm, Drop(embedding.forward(tokens)), (h0, c0));
        return Drop(output).MoveToOuterDisposeScope();
    }

    private protected override Linear OutputLayer => fc;

    public override DecoderState Begin(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var (h0, c0) = InitialState(features, null);
        return new DecoderState(h0, c0, null);
    }

    private protected override (Tensor Hidden, DecoderState State) StepHidden(Tensor tokens, DecoderState state)
    {
        var (output, h, c) = LstmStep(lstm, embedding.forward(tokens), state);
        return (output, new DecoderState(h, c, null));
    }

    // Every layer starts from the image: h0 = tanh(img_to_h(img)), c0 = tanh(img_to_c(img)).
    private (Tensor H0, Tensor C0) InitialState(Tensor features, Tensor? featureIndex)
    {
        var h = Rows(imgToH.forward(features).tanh(), featureIndex).unsqueeze(0);
        var c = Rows(imgToC.forward(features).tanh(), featureIndex).unsqueeze(0);
        if (Options.Layers == 1) return (h, c);
        var shape = new[] { (long)Options.Layers, h.size(1), h.size(2) };
        return (h.expand(shape).contiguous(), c.expand(shape).contiguous());
    }
}

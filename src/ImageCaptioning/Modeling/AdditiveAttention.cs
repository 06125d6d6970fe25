namespace ImageCaptioning.Modeling;

/// <summary>
/// Bahdanau-style additive attention over grid cells with the tutorial's state_dict names: encoder_att,
/// decoder_att, full_att.
/// </summary>
internal sealed class AdditiveAttention : torch.nn.Module
{
    private readonly Linear encoderAtt, decoderAtt, fullAtt;

    public AdditiveAttention(int featureDimension, int hiddenSize, int attentionSize) : base(nameof(AdditiveAttention))
    {
        encoderAtt = this.Register("encoder_att", torch.nn.Linear(featureDimension, attentionSize));
        decoderAtt = this.Register("decoder_att", torch.nn.Linear(hiddenSize, attentionSize));
        fullAtt = this.Register("full_att", torch.nn.Linear(attentionSize, 1));
    }

    // TorchSharp adds a child's fields under their C# names when the child is registered; the tutorial's names are already registered.
    protected override void RegisterComponents()
    {
    }

    /// <summary>The features' half of the scores, [B, P, attention]: it does not change while a caption is read, so it is computed once.</summary>
    public Tensor ProjectFeatures(Tensor features) => encoderAtt.forward(features);

    /// <summary>The context Σ_p α_p·f_p [B, C] and the weights α [B, P] for the LSTM state <paramref name="hidden"/> [B, hidden].</summary>
    public (Tensor Context, Tensor Weights) forward(Tensor features, Tensor projectedFeatures, Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var scores = fullAtt.forward(projectedFeatures.add(decoderAtt.forward(hidden).unsqueeze(1)).relu()).squeeze(2);
        var weights = scores.softmax(1);
        var context = weights.unsqueeze(1).bmm(features).squeeze(1);
        return (context.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}

namespace ImageCaptioning.Pretrained;

/// <summary>
/// Where an architecture's image encoder sits in its state_dict, for freezing it whole or in part: its parameters
/// start with <paramref name="Prefix"/>, layer <c>i</c>'s with <c><paramref name="LayerPrefix"/>{i}.</c> (of
/// <paramref name="Layers"/>), and what follows the last layer (the final layer norm) with <paramref name="HeadPrefix"/>.
/// </summary>
internal sealed record EncoderLayout(string Prefix, string LayerPrefix, int Layers, string HeadPrefix)
{
    /// <summary>Whether <paramref name="key"/> is trained under <paramref name="training"/> (<paramref name="lastLayers"/> for <see cref="PretrainedEncoderTraining.LastLayers"/>).</summary>
    public bool Trains(string key, PretrainedEncoderTraining training, int lastLayers)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return true;
        return training switch
        {
            PretrainedEncoderTraining.All => true,
            PretrainedEncoderTraining.Frozen => false,
            _ => key.StartsWith(HeadPrefix, StringComparison.Ordinal)
                || Enumerable.Range(Layers - lastLayers, lastLayers).Any(layer => key.StartsWith($"{LayerPrefix}{layer}.", StringComparison.Ordinal)),
        };
    }
}

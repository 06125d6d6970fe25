namespace ImageCaptioning.Pretrained;

/// <summary>
/// Which of Hugging Face transformers' two beam searches a pretrained captioner follows. They rank the same candidates
/// but differ in when an image's search stops and which hypotheses the last step may add, so on some inputs they return
/// different captions.
/// </summary>
public enum TransformersBeamSearch
{
    /// <summary>
    /// The vectorised <c>_beam_search</c> of transformers 4.49 onwards (5.x included): stops once the best running beam,
    /// length-normalised at the current length, cannot beat the worst finished one, and at <c>max_length</c> ranks the
    /// top NumBeams candidates whether or not they ended. The default: what <c>generate(num_beams=...)</c> gives today.
    /// </summary>
    Vectorized,

    /// <summary>
    /// <c>BeamSearchScorer</c> with <c>BeamHypotheses</c>, as transformers 4.36–4.48 run it: the stopping test uses the best
    /// candidate score, finished ones included, and at <c>max_length</c> the running beams are added. For reproducing
    /// captions made with those versions.
    /// </summary>
    Scorer,
}

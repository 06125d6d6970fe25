namespace ImageCaptioning.Persistence;

/// <summary>How a saved captioner or model bundle folder must prove that it is as it was saved.</summary>
public enum FolderIntegrity
{
    /// <summary>
    /// The default. <c>config.json</c> must record the SHA-256 of <c>model.safetensors</c>, of <c>vocab.txt</c> and of
    /// its own settings, each must match, and no other key may be there: a folder damaged or edited since it was saved
    /// is refused, whichever file or key the change touched.
    /// </summary>
    Verified,

    /// <summary>
    /// For a folder whose <c>config.json</c> was edited by hand, and for folders saved before the settings were covered
    /// (format 1, and format 2 without a <c>config.json</c> digest): the settings' digest is not checked, and a missing
    /// digest is accepted. Digests that are present for <c>model.safetensors</c> and <c>vocab.txt</c> are still checked,
    /// and every setting is still validated. Saving the loaded captioner again writes a folder that loads verified.
    /// </summary>
    AllowEdited,
}

namespace ImageCaptioning.Features;

/// <summary>How a <see cref="FeatureStore"/> must prove that its rows and ids are as they were committed.</summary>
public enum FeatureStoreIntegrity
{
    /// <summary>
    /// The default. <c>store.json</c> must be version 2: it records the SHA-256 of itself, of the committed ids and of
    /// every chunk of rows, all of which must be present and match. A chunk's rows are checked the first time one of
    /// them is read (and all at once by <see cref="FeatureStore.Verify"/>), the rest when the store is opened: a store
    /// damaged or edited since its commit is refused, whichever file or key the change touched.
    /// </summary>
    Verified,

    /// <summary>
    /// Also accepts a version-1 store (written before the rows were covered), whose rows cannot be checked: opened for
    /// reading its rows are read unverified (and <see cref="FeatureStore.IsVerified"/> is false); opened for writing,
    /// the digests of its files as they are now are recorded and the store is verified from then on. A version-2
    /// store is checked exactly as with <see cref="Verified"/>.
    /// </summary>
    AllowLegacy,
}

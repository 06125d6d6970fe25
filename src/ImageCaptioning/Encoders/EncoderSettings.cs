using System.Globalization;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Encoders;

/// <summary>
/// The keys of the encoders' <see cref="ImageEncoderDescription.Settings"/> and their reading back, each bad value
/// reported with the encoder's kind and the key.
/// </summary>
internal sealed class EncoderSettings
{
    public const string InputSize = "inputSize";
    public const string Widths = "widths";
    public const string ConvolutionsPerStage = "convolutionsPerStage";
    public const string Downsampling = "downsampling";
    public const string BatchNorm = "batchNorm";
    public const string Network = "network";
    public const string TrainableBlocks = "trainableBlocks";

    private readonly ImageEncoderDescription description;

    /// <summary>Reads <paramref name="description"/>, which must have exactly the keys <paramref name="known"/>.</summary>
    public EncoderSettings(ImageEncoderDescription description, params string[] known)
    {
        this.description = description;
        var settings = description.Settings ?? throw Error("has no settings");
        foreach (var key in settings.Keys.Where(key => !known.Contains(key, StringComparer.Ordinal)))
            throw Error($"has the unknown setting '{key}' (its settings are {string.Join(", ", known)})");
        foreach (var key in known.Where(key => !settings.ContainsKey(key)))
            throw Error($"lacks the setting '{key}'");
    }

    public int Int(string key) =>
        int.TryParse(Value(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : throw Bad(key, "an integer");

    public IReadOnlyList<int> Ints(string key) =>
        Value(key).Split(',').Select(part => int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Bad(key, "integers separated by commas")).ToArray();

    public bool Bool(string key) => Value(key) switch
    {
        "true" => true,
        "false" => false,
        _ => throw Bad(key, "true or false"),
    };

    // By name only: Enum.TryParse also takes numbers.
    public TEnum Enum<TEnum>(string key) where TEnum : struct, Enum =>
        System.Enum.GetNames<TEnum>().Contains(Value(key), StringComparer.Ordinal)
            ? System.Enum.Parse<TEnum>(Value(key))
            : throw Bad(key, $"one of {string.Join(", ", System.Enum.GetNames<TEnum>())}");

    /// <summary>The options <paramref name="build"/> makes of the settings, an option's own refusal reported with the encoder's kind.</summary>
    public T Options<T>(Func<EncoderSettings, T> build)
    {
        try
        {
            return build(this);
        }
        catch (ArgumentException exception) when (exception.ParamName != nameof(description))
        {
            throw Error($"has a setting its options refuse: {exception.Message}", exception);
        }
    }

    private string Value(string key) => description.Settings[key] ?? throw Bad(key, "a value");

    private ArgumentException Bad(string key, string expected) => Error($"has '{key}' = '{description.Settings[key]}', which is not {expected}");

    private ArgumentException Error(string problem, Exception? inner = null) =>
        new($"the image encoder description of kind '{description.Kind}' {problem}", nameof(description), inner);
}

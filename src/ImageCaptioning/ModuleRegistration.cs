namespace ImageCaptioning;

/// <summary>TorchSharp's <c>register_module</c> returns nothing; this keeps a field's assignment and its registration in one line.</summary>
internal static class ModuleRegistration
{
    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> (its state_dict prefix) and returns it.</summary>
    public static T Register<T>(this torch.nn.Module parent, string name, T child) where T : torch.nn.Module
    {
        parent.register_module(name, child);
        return child;
    }
}

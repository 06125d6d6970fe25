using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Native;

// Entry points of src/ImageCaptioning.Native/src/random.cpp.
internal static partial class NativeMethods
{
    [LibraryImport(Library)] internal static partial IntPtr ic_get_rng_state();
    [LibraryImport(Library)] internal static partial int ic_set_rng_state(TensorHandle state);
}

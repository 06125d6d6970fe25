using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Native;

// Entry points of src/ImageCaptioning.Native/src/serialization.cpp.
internal static partial class NativeMethods
{
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_as_strided(TensorHandle storage, long* sizes, long* strides, int ndim, long storageOffset);
}

using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// The category "Kernels": parity and model tests whose numbers come from libtorch's CPU kernels of the networks
/// (oneDNN's convolutions and LSTMs, the attention and transformer layers). oneDNN picks another family of kernels per
/// instruction set (AVX-512, AVX2), and each family has had faults of its own on the same CPU, so scripts/run-tests.sh
/// runs this category a second time with ONEDNN_MAX_CPU_ISA=AVX2 (and DOTNET_EnableAVX512F=0, for the library's own vector
/// kernels).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class KernelsAttribute : CategoryAttribute;

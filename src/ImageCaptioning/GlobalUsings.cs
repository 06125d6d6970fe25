global using F = TorchSharp.torch.nn.functional;
global using ImageCaptioning.Torch.Serialization;
global using ImageCaptioning.Torch.Tensors;
global using ExternalException = System.Runtime.InteropServices.ExternalException;

#!/usr/bin/env bash
# One entry point for set-up, build, tests and the demo.
#   ./build.sh setup   install the Debian packages the project needs (idempotent; prints what it does)
#   ./build.sh build   setup + build everything (the native shim is built by `dotnet build`)
#   ./build.sh test    setup + build + all tests; ends with a line "N passed, N failed"
#   ./build.sh cuda DIR   build against a CUDA libtorch (DIR holds TorchConfig.cmake, e.g. a PyTorch install's
#                      share/cmake/Torch), publish the benchmarks self-contained to artifacts/cuda/benchmarks (for
#                      a GPU machine without .NET), and, where the SDK is present, run the tests on that build
#   ./build.sh demo    setup + build + the QuickStart demo (synthetic data, VGG16 features, training, BLEU/CIDEr-D,
#                      HTML report in quickstart-output/); extra arguments go to the demo
set -euo pipefail
cd "$(dirname "$0")"

command=${1:-test}
shift || true

case "$command" in
  setup) exec scripts/setup.sh "$@" ;;
  build)
    scripts/setup.sh
    dotnet build ImageCaptioning.sln -c Release "$@"
    ;;
  test)
    scripts/setup.sh
    dotnet build ImageCaptioning.sln -c Release "$@"
    exec scripts/run-tests.sh -c Release --no-build
    ;;
  cuda)
    torch_dir=${1:?usage: ./build.sh cuda /path/to/torch/share/cmake/Torch}
    shift
    flags=(-c Release -r linux-x64 --self-contained -p:LibTorchDir="$torch_dir" -p:NativeFlavor=cuda)
    dotnet publish benchmarks/ImageCaptioning.Benchmarks "${flags[@]}" -o artifacts/cuda/benchmarks "$@"
    echo "CUDA benchmarks: artifacts/cuda/benchmarks/ImageCaptioning.Benchmarks --anyCategories train-step decode extract"
    echo "CUDA tests (needs the .NET SDK): dotnet test ImageCaptioning.sln -c Release -p:LibTorchDir=$torch_dir -p:NativeFlavor=cuda"
    ;;
  demo)
    scripts/setup.sh
    dotnet build samples/QuickStart -c Release
    exec dotnet samples/QuickStart/bin/Release/net10.0/QuickStart.dll --output quickstart-output "$@"
    ;;
  *)
    echo "usage: ./build.sh [setup|build|test|demo|cuda DIR]" >&2
    exit 2
    ;;
esac

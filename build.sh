#!/usr/bin/env bash
# One entry point for set-up, build, tests and the demo.
#   ./build.sh setup   install the Debian packages the project needs (idempotent; prints what it does)
#   ./build.sh build   setup + build everything
#   ./build.sh test    setup + build + all tests; ends with a line "N passed, N failed"
#   ./build.sh publish DIR   publish the tests' and benchmarks' apps self-contained for linux-x64 into DIR, for a
#                      machine without .NET (a GPU machine: add -p:TorchBackend=<a TorchSharp CUDA package>)
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
  publish)
    out=${1:?usage: ./build.sh publish DIR [dotnet publish arguments]}
    shift
    flags=(-c Release -r linux-x64 --self-contained)
    dotnet publish benchmarks/ImageCaptioning.Benchmarks "${flags[@]}" -o "$out/benchmarks" "$@"
    echo "benchmarks: $out/benchmarks/ImageCaptioning.Benchmarks --anyCategories train-step decode extract"
    ;;
  demo)
    scripts/setup.sh
    dotnet build samples/QuickStart -c Release
    exec dotnet samples/QuickStart/bin/Release/net10.0/QuickStart.dll --output quickstart-output "$@"
    ;;
  *)
    echo "usage: ./build.sh [setup|build|test|demo|publish DIR]" >&2
    exit 2
    ;;
esac

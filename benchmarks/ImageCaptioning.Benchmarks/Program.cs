using BenchmarkDotNet.Running;

// Filter by category, e.g.: dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- --anyCategories interop
//
// In process by default (BenchmarkDotNet's InProcessEmitToolchain): the default toolchain builds a copy of this
// project per run, another libtorch-sized output whose TorchSharp native library would need the same post-build
// fix-ups as ours, and starts it with an environment we do not control. In process, every case runs on the
// binaries just built, with the caller's environment (OMP_WAIT_POLICY, thread count). --outOfProcess restores the
// default toolchain.
var outOfProcess = args.Contains("--outOfProcess");
args = outOfProcess ? args.Where(a => a != "--outOfProcess").ToArray()
    : args.Contains("--inProcess") ? args : ["--inProcess", .. args];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

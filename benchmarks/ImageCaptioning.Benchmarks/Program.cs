using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Filter by category, e.g.: dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- --anyCategories interop
//
// In process by default (BenchmarkDotNet's InProcessEmitToolchain): the default toolchain builds a copy of this
// project per run, another libtorch-sized output whose TorchSharp native library would need the same post-build
// fix-ups as ours, and starts it with an environment we do not control. In process, every case runs on the
// binaries just built, with the caller's environment (OMP_WAIT_POLICY, thread count). --outOfProcess restores the
// default toolchain.
//
// The toolchain comes as a mutator, which sets it on every job (--job short, the default job) without adding a job
// of its own; its time limit per case replaces --inProcess's five minutes, which a full-size pretrained captioner
// (seconds per call, beam 4 on 16 images) outlasts.
var outOfProcess = args.Contains("--outOfProcess");
args = [.. args.Where(a => a is not "--outOfProcess" and not "--inProcess")];
var config = outOfProcess ? DefaultConfig.Instance
    : DefaultConfig.Instance.AddJob(new Job("InProcess").WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true)).AsMutator());
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

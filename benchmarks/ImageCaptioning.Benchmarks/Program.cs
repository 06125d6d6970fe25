using BenchmarkDotNet.Running;

// Filter by category, e.g.: dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- --anyCategories interop
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

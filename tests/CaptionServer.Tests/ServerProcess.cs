using System.Diagnostics;
using System.Text;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>The server as its own process (<c>dotnet CaptionServer.dll</c>, as a user runs it), its output kept.</summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CaptionServer.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (output) return output.ToString();
        }
    }

    public int Id => process.Id;

    /// <summary>Runs the server to its end (for a start that must fail).</summary>
    public static (int ExitCode, string Output) Run(params string[] arguments)
    {
        using var server = new ServerProcess(arguments);
        if (!server.process.WaitForExit(StartTimeout)) Assert.Fail($"the server did not exit: {server.Output}");
        server.process.WaitForExit();
        return (server.process.ExitCode, server.Output);
    }

    /// <summary>Starts the server on a free loopback port and waits until it listens.</summary>
    public static async Task<(ServerProcess Server, Uri Address)> StartAsync(params string[] arguments)
    {
        var server = new ServerProcess(["--urls", "http://127.0.0.1:0", .. arguments]);
        var ended = server.process.WaitForExitAsync();
        var first = await Task.WhenAny(server.listening.Task, ended, Task.Delay(StartTimeout));
        if (first != server.listening.Task)
        {
            server.Dispose();
            Assert.Fail($"the server did not start listening: {server.Output}");
        }
        return (server, await server.listening.Task);
    }

    /// <summary>Sends SIGTERM, as a container runtime or systemd stops a service, and waits for the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    private void Line(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
        const string marker = "Now listening on: ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0) listening.TrySetResult(new Uri(line[(at + marker.Length)..].Trim()));
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}

using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>
/// Debian's Chromium, headless, driven over the DevTools protocol on a loopback port: navigate, set the files of a
/// page's own file input (as a user's pick does: the page gets its change event), evaluate script, take a screenshot.
/// Under CI (CI=true) a missing browser fails the test; elsewhere it is inconclusive with the install command.
/// </summary>
internal sealed class DevToolsBrowser : IAsyncDisposable
{
    public const string Program = "/usr/bin/chromium";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Process process;
    private readonly ClientWebSocket socket;
    private int lastId;

    private DevToolsBrowser(Process process, ClientWebSocket socket) => (this.process, this.socket) = (process, socket);

    public static void Require()
    {
        if (File.Exists(Program)) return;
        var message = $"headless Chromium ({Program}) is not installed. Install it: sudo apt-get install -y chromium (or run ./build.sh setup).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)) Assert.Fail(message);
        Assert.Inconclusive(message);
    }

    /// <summary>Starts the browser with a fresh profile under <paramref name="scratch"/> and attaches to its page.</summary>
    public static async Task<DevToolsBrowser> LaunchAsync(string scratch, int width, int height)
    {
        Require();
        var profile = Path.Combine(scratch, "chromium-profile");
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = scratch };
        // As root Chromium refuses its sandbox; without a GPU, software rendering is the only kind. Port 0: the
        // browser picks a free port and writes it to DevToolsActivePort in the profile.
        foreach (var argument in new[]
        {
            "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            $"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            $"--window-size={width},{height}", "--hide-scrollbars", "about:blank",
        }) start.ArgumentList.Add(argument);
        start.Environment["HOME"] = scratch;
        start.Environment["XDG_CONFIG_HOME"] = profile;
        start.Environment["XDG_CACHE_HOME"] = profile;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            var deadline = DateTime.UtcNow + Timeout;
            string[] lines;
            while (!File.Exists(portFile) || (lines = await File.ReadAllLinesAsync(portFile)).Length < 2 || lines[0].Length == 0)
            {
                if (process.HasExited) Assert.Fail($"Chromium exited with code {process.ExitCode} before it listened");
                if (DateTime.UtcNow > deadline) Assert.Fail("Chromium wrote no DevToolsActivePort within 30 s");
                await Task.Delay(50);
            }
            using var http = new HttpClient { Timeout = Timeout };
            using var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{lines[0].Trim()}/json/list"));
            var page = targets.RootElement.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
            var socket = new ClientWebSocket();
            using var connecting = new CancellationTokenSource(Timeout);
            await socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), connecting.Token);
            return new DevToolsBrowser(process, socket);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Sends one protocol command and returns its result; events that arrive meanwhile are skipped.</summary>
    public async Task<JsonElement> SendAsync(string method, object? parameters = null)
    {
        var id = ++lastId;
        using var timeout = new CancellationTokenSource(Timeout);
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult part;
            do
            {
                part = await socket.ReceiveAsync(buffer, timeout.Token);
                received.Write(buffer, 0, part.Count);
            }
            while (!part.EndOfMessage);
            using var answer = JsonDocument.Parse(received.ToArray());
            if (!answer.RootElement.TryGetProperty("id", out var answered) || answered.GetInt32() != id) continue;
            if (answer.RootElement.TryGetProperty("error", out var error)) Assert.Fail($"DevTools {method} failed: {error}");
            return answer.RootElement.GetProperty("result").Clone();
        }
    }

    /// <summary>The value of a script expression in the page (awaited when it is a promise).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var thrown)) Assert.Fail($"the page's script threw: {thrown}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v : value;
    }

    /// <summary>Polls <paramref name="expression"/> until it is true; <paramref name="what"/> names it in the failure.</summary>
    public async Task WaitForAsync(string expression, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while ((await EvaluateAsync(expression)).ValueKind != JsonValueKind.True)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{what} did not happen within 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Sets <paramref name="file"/> as the chosen file of the page's input matching <paramref name="selector"/>.</summary>
    public async Task ChooseFileAsync(string selector, string file)
    {
        var document = await SendAsync("DOM.getDocument", new { depth = 0 });
        var input = await SendAsync("DOM.querySelector", new { nodeId = document.GetProperty("root").GetProperty("nodeId").GetInt32(), selector });
        var node = input.GetProperty("nodeId").GetInt32();
        Assert.That(node, Is.Not.Zero, $"the page has no {selector}");
        await SendAsync("DOM.setFileInputFiles", new { files = new[] { Path.GetFullPath(file) }, nodeId = node });
    }

    /// <summary>A PNG of the page as it is shown now.</summary>
    public async Task ScreenshotAsync(string png)
    {
        var shot = await SendAsync("Page.captureScreenshot", new { format = "png" });
        await File.WriteAllBytesAsync(png, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var message = JsonSerializer.SerializeToUtf8Bytes(new { id = ++lastId, method = "Browser.close", @params = new { } });
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, closing.Token);
            await process.WaitForExitAsync(closing.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The browser did not close itself in time: it is ended below.
        }
        finally
        {
            socket.Dispose();
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }
}

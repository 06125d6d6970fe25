using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>
/// Debian's Chromium run headless on a local page: its DOM after the page's scripts ran, or a screenshot. Under CI
/// (CI=true) a missing browser fails the test; elsewhere it is reported as inconclusive with the install command.
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>Debian's launcher (package <c>chromium</c>), which scripts/setup.sh installs.</summary>
    public const string Program = "/usr/bin/chromium";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Stops the test (fail under CI, inconclusive elsewhere) unless the browser is installed.</summary>
    public static void Require()
    {
        if (File.Exists(Program)) return;
        var message = $"headless Chromium ({Program}) is not installed. Install it: sudo apt-get install -y chromium (or run ./build.sh setup).";
        if (IsCi) Assert.Fail(message);
        Assert.Inconclusive(message);
    }

    /// <summary>The page's DOM, serialised once its load event has fired and its timers have run.</summary>
    /// <param name="page">A local HTML file.</param>
    /// <param name="scratch">A writable folder for the browser's profile and home, used by this call only.</param>
    public static string DumpDom(string page, string scratch) => Run(page, scratch, ["--dump-dom"]).StandardOutput;

    /// <summary>Renders the page at <paramref name="width"/> × <paramref name="height"/> CSS pixels into a PNG file.</summary>
    public static void Screenshot(string page, string scratch, string png, int width, int height)
    {
        Run(page, scratch, [$"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars"]);
        Assert.That(File.Exists(png), Is.True, $"Chromium wrote no screenshot to {png}");
    }

    private static CommandResult Run(string page, string scratch, string[] action)
    {
        Require();
        var profile = Path.Combine(scratch, "chromium-profile");
        Directory.CreateDirectory(profile);
        // As root Chromium refuses its sandbox; without a GPU, software rendering is the only kind; virtual time
        // lets the load event and image decodes finish before the DOM or the screenshot is taken, without a fixed wait.
        string[] arguments =
        [
            "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            $"--user-data-dir={profile}", "--virtual-time-budget=10000", .. action, new Uri(Path.GetFullPath(page)).AbsoluteUri,
        ];
        var run = DotnetCommand.RunProcess(Program, arguments, Timeout, scratch,
            new Dictionary<string, string?> { ["HOME"] = scratch, ["XDG_CONFIG_HOME"] = profile, ["XDG_CACHE_HOME"] = profile });
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Transcript);
        return run;
    }
}

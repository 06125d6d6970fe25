// A bounded load test of a running CaptionServer on a loopback port (not a timed unit test): throughput and p50/p99
// latency at 1, 4 and 16 concurrent clients, resident memory of the server before and after N requests, and a run
// mixing 10% bad uploads and 10% aborted clients whose good answers must equal the answers of a quiet server.
//   dotnet CaptionServer.Load.dll train MODEL_FOLDER SCRATCH      trains the tiny captioner and saves it
//   dotnet CaptionServer.Load.dll run URL SERVER_PID IMAGE_FOLDER [REQUESTS]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using CaptionServer.Load;
using ImageCaptioning.Samples;

if (args is ["train", var folder, var scratch])
{
    Directory.CreateDirectory(scratch);
    Console.WriteLine($"{TinyCaptioner.Train(folder, scratch).Count} training scenes under {scratch}; model saved to {folder}");
    return ExitCodes.Success;
}
if (args is not ["run", var url, var pidText, var imageFolder, ..] || !int.TryParse(pidText, CultureInfo.InvariantCulture, out var pid)
    || !Directory.Exists(imageFolder))
{
    Console.Error.WriteLine("error: usage: train MODEL_FOLDER SCRATCH | run URL SERVER_PID IMAGE_FOLDER [REQUESTS] (an existing image folder, the server's process id)");
    return ExitCodes.BadInput;
}
var total = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 5000;
var images = Directory.GetFiles(imageFolder, "*.jpg").Order(StringComparer.Ordinal).Take(50).Select(File.ReadAllBytes).ToArray();
using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };

// The quiet answers: one request at a time, each image once.
var quiet = new string[images.Length];
for (var i = 0; i < images.Length; i++) quiet[i] = (await PostAsync(images[i], CancellationToken.None)).Caption!;

foreach (var clients in new[] { 1, 4, 16 })
{
    var requests = clients * 60;
    var (elapsed, latencies, statuses, _) = await LoadAsync(clients, requests, _ => Kind.Good);
    latencies.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"clients {clients,2}: {requests / elapsed.TotalSeconds,7:F1} req/s, p50 {latencies[latencies.Count / 2],6:F1} ms, p99 {latencies[(int)(latencies.Count * 0.99)],6:F1} ms, statuses {Statuses(statuses)}"));
}

var before = Rss(pid);
var (soakTime, _, soakStatuses, soakWrong) = await LoadAsync(16, total, _ => Kind.Good);
var after = Rss(pid);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{total} requests at 16 clients in {soakTime.TotalSeconds:F1} s: server RSS {before / 1048576.0:F0} MiB before, {after / 1048576.0:F0} MiB after; statuses {Statuses(soakStatuses)}; wrong captions {soakWrong}"));

var (_, _, mixStatuses, mixWrong) = await LoadAsync(16, 1000, i => (i % 10) switch { 3 => Kind.Bad, 7 => Kind.Aborted, _ => Kind.Good });
Console.WriteLine($"mixed run (1000 requests, 10% bad uploads, 10% aborted clients): statuses {Statuses(mixStatuses)}; good answers differing from the quiet ones: {mixWrong}");
return ExitCodes.Success;

async Task<(TimeSpan Elapsed, List<double> Latencies, ConcurrentDictionary<string, int> Statuses, int Wrong)> LoadAsync(int clients, int requests, Func<int, Kind> kindOf)
{
    var next = -1;
    var wrong = 0;
    var latencies = new ConcurrentBag<double>();
    var statuses = new ConcurrentDictionary<string, int>();
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < requests)
        {
            var image = i % images.Length;
            var kind = kindOf(i);
            var started = Stopwatch.GetTimestamp();
            using var abort = new CancellationTokenSource();
            if (kind == Kind.Aborted) abort.CancelAfter(TimeSpan.FromMilliseconds(2));
            try
            {
                var body = kind == Kind.Bad ? images[image][..(images[image].Length / 3)] : images[image];
                var (status, caption) = await PostAsync(body, abort.Token);
                statuses.AddOrUpdate(status.ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                if (kind == Kind.Good && status == 200 && caption != quiet[image]) Interlocked.Increment(ref wrong);
                if (kind == Kind.Good) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (kind == Kind.Aborted)
            {
                statuses.AddOrUpdate("aborted", 1, (_, n) => n + 1);
            }
        }
    }));
    return (clock.Elapsed, [.. latencies], statuses, wrong);
}

async Task<(int Status, string? Caption)> PostAsync(byte[] body, CancellationToken cancellationToken)
{
    var content = new ByteArrayContent(body);
    content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
    using var response = await client.PostAsync("/captions", content, cancellationToken);
    var text = await response.Content.ReadAsStringAsync(cancellationToken);
    if (!response.IsSuccessStatusCode) return ((int)response.StatusCode, null);
    using var answer = JsonDocument.Parse(text);
    return (200, answer.RootElement.GetProperty("caption").GetString());
}

static string Statuses(ConcurrentDictionary<string, int> statuses) => string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value}"));

static long Rss(int pid) => long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
    .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

internal enum Kind
{
    Good,
    Bad,
    Aborted,
}

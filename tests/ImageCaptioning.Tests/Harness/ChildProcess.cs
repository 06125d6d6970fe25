using System.Globalization;
using System.Reflection;
using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// Runs one test case's body in a child process, so that a native fault inside libtorch (a SIGSEGV or SIGFPE in
/// oneDNN) fails that test, naming the signal, instead of killing the test host and every test after it. The child
/// is this test assembly started by <c>dotnet</c> (its <see cref="ChildProcessEntry.Main"/>), which calls the named
/// static method; environment variables set for the child are there before libtorch loads, so libtorch's load-time
/// settings (<c>ONEDNN_VERBOSE</c>, <c>ONEDNN_MAX_CPU_ISA</c>) can be given per test.
/// </summary>
internal static class ChildProcess
{
    /// <summary>Long enough for a VGG16 parity case on a busy 2-core machine; a hung child is killed after it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs the static method <paramref name="method"/> of <paramref name="type"/> (a type of this test assembly) in a
    /// fresh process and returns its exit code, the signal that killed it if one did (<see cref="CommandResult.Signal"/>),
    /// and its stdout and stderr. The method passes by returning (exit code 0) and fails by throwing (its exception on
    /// stderr, exit code 1); NUnit's assertions work in it. <paramref name="arguments"/> are passed as invariant-culture
    /// strings and converted back to the method's parameter types (string, enums, numbers, bool).
    /// <paramref name="environment"/> adds variables to the child's environment (a null value removes one).
    /// Check the outcome with <see cref="AssertSucceeded"/>.
    /// </summary>
    /// <example><code>
    /// ChildProcess.Run(typeof(MyTests), nameof(MyTests.ForwardInChild), [224], new Dictionary&lt;string, string?&gt; { ["ONEDNN_VERBOSE"] = "1" })
    ///     .AssertSucceeded();
    /// </code></example>
    public static CommandResult Run(Type type, string method, IEnumerable<object?>? arguments = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        if (type.Assembly != typeof(ChildProcess).Assembly)
            throw new ArgumentException($"{type} is not in {typeof(ChildProcess).Assembly.GetName().Name}, the assembly the child runs", nameof(type));
        // Fail here, in the parent, on a misspelled method rather than as an obscure exit code of the child.
        ChildProcessEntry.Find(type, method);
        var values = (arguments ?? []).Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "");
        return DotnetCommand.Run([typeof(ChildProcess).Assembly.Location, ChildProcessEntry.Flag, type.FullName!, method, .. values],
            timeout ?? DefaultTimeout, AppContext.BaseDirectory, environment);
    }

    /// <summary>
    /// Passes when the child exited with 0, and copies its stdout to the test's output. Otherwise fails with what ended
    /// it (the signal's name, or the exit code) and the tail of its stderr, where a failed assertion or a native
    /// library's last words are.
    /// </summary>
    public static void AssertSucceeded(this CommandResult child, int stderrLines = 40)
    {
        TestContext.Out.Write(child.StandardOutput);
        if (child.ExitCode == 0) return;
        var what = child.Signal is { } signal ? $"was killed by {signal} (exit code {child.ExitCode})" : $"exited with {child.ExitCode}";
        var tail = child.StandardError.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var shown = string.Join('\n', tail.Where(l => l.Length > 0).TakeLast(stderrLines));
        Assert.Fail($"the child process {what}: {child.CommandLine}\n--- stderr (last {stderrLines} lines)\n{shown}");
    }
}

/// <summary>
/// The test assembly's entry point, used only by <see cref="ChildProcess"/> (the test host loads the assembly as a
/// library and never calls it): <c>dotnet ImageCaptioning.Tests.dll --child-process TYPE METHOD [ARGUMENT...]</c>.
/// </summary>
internal static class ChildProcessEntry
{
    public const string Flag = "--child-process";

    /// <summary>Exit code for a command line that names no method to run (sysexits' EX_USAGE).</summary>
    public const int Usage = 64;

    public static int Main(string[] args)
    {
        if (args is not [Flag, var typeName, var methodName, .. var rest])
        {
            Console.Error.WriteLine($"usage: dotnet {Path.GetFileName(typeof(ChildProcessEntry).Assembly.Location)} {Flag} TYPE METHOD [ARGUMENT...] (the tests run this themselves)");
            return Usage;
        }
        MethodInfo method;
        object?[] values;
        try
        {
            var type = typeof(ChildProcessEntry).Assembly.GetType(typeName, throwOnError: true)!;
            method = Find(type, methodName);
            var parameters = method.GetParameters();
            if (parameters.Length != rest.Length)
                throw new ArgumentException($"{typeName}.{methodName} takes {parameters.Length} arguments, the command line has {rest.Length}");
            values = parameters.Select((p, i) => Convert(rest[i], p.ParameterType)).ToArray();
        }
        catch (Exception exception) when (exception is ArgumentException or TypeLoadException or FormatException or InvalidCastException)
        {
            Console.Error.WriteLine($"error: {exception.Message}");
            return Usage;
        }

        try
        {
            if (method.Invoke(null, values) is Task task) task.GetAwaiter().GetResult();
            return 0;
        }
        catch (Exception exception)
        {
            // Assertion failures and exceptions alike: the parent shows stderr's tail, so the message comes last.
            var inner = exception is TargetInvocationException { InnerException: { } cause } ? cause : exception;
            Console.Error.WriteLine(inner.StackTrace);
            Console.Error.WriteLine($"{inner.GetType().FullName}: {inner.Message}");
            return 1;
        }
    }

    /// <summary>The static method <paramref name="name"/> of <paramref name="type"/>, public or not, which must be unique.</summary>
    public static MethodInfo Find(Type type, string name)
    {
        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(m => m.Name == name).ToArray();
        return methods switch
        {
            [var only] => only,
            [] => throw new ArgumentException($"{type.FullName} has no static method '{name}'"),
            _ => throw new ArgumentException($"{type.FullName} has {methods.Length} static methods named '{name}': the child cannot choose"),
        };
    }

    private static object? Convert(string value, Type type) =>
        type == typeof(string) ? value
        : type.IsEnum ? Enum.Parse(type, value)
        : System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
}

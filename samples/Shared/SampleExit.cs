// Linked into every sample (see each .csproj), so that all of them end the same way: a library exception about the
// user's input (a file, a folder, a setting) is one "error: ..." line and exit code 2; anything else is a bug in the
// sample or the library and keeps System.CommandLine's stack trace and exit code 1.
using System.CommandLine;
using System.CommandLine.Builder;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using ImageCaptioning.Data;
using ImageCaptioning.Text;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Training;

namespace ImageCaptioning.Samples;

/// <summary>The process exit codes every sample uses.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run finished but missed its target (QuickStart), or a bug (an unexpected exception, with its stack trace).</summary>
    public const int Failure = 1;

    /// <summary>An input is missing, unreadable or malformed, or the command line is wrong; the message says which.</summary>
    public const int BadInput = 2;

    /// <summary>Ctrl+C: 128 + SIGINT, as shells report it.</summary>
    public const int Cancelled = 130;
}

/// <summary>The checks of option values the samples share, worded alike.</summary>
internal static class OptionRules
{
    // Validators also run when a value did not parse; the parser reports that one, so only parsed values are checked.

    /// <summary>An integer option's value must be at least <paramref name="least"/> (and at most <paramref name="most"/>).</summary>
    public static void Range(Option option, int least, int most = int.MaxValue) => option.AddValidator(r =>
    {
        if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && (value < least || value > most))
            r.ErrorMessage = most == int.MaxValue ? $"{option.Aliases.First()} must be at least {least}" : $"{option.Aliases.First()} must be between {least} and {most}";
    });

    /// <summary>A number option's value must be positive and finite.</summary>
    public static void Positive(Option option) => option.AddValidator(r =>
    {
        if (r.Tokens is [var token] && double.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && !(value > 0 && double.IsFinite(value)))
            r.ErrorMessage = $"{option.Aliases.First()} must be a positive number";
    });
}

/// <summary>Tells the library's reports of bad input from bugs, and prints them without a stack trace.</summary>
internal static partial class BadInput
{
    /// <summary>
    /// Whether <paramref name="exception"/> is how the library reports bad input. Its file and format errors are
    /// <see cref="IOException"/>s (images, feature stores, tensor files, missing files) or
    /// <see cref="InvalidDataException"/>s (bundles, checkpoints, settings files); the other types are its own.
    /// </summary>
    public static bool Is(Exception exception) => exception is IOException or InvalidDataException or UnauthorizedAccessException
        or CaptionFormatException or MissingFeaturesException or StateDictMismatchException or CheckpointMismatchException;

    /// <summary>Prints <paramref name="exception"/>'s message as one line on stderr and returns <see cref="ExitCodes.BadInput"/>.</summary>
    public static int Report(Exception exception)
    {
        Console.Error.WriteLine($"error: {LineBreaks().Replace(exception.Message, " ")}");
        return ExitCodes.BadInput;
    }

    /// <summary>
    /// Runs <paramref name="command"/> as every sample does: --help, typo hints, exit code 2 with the parser's message
    /// for a wrong command line, exit code 2 with one line for bad input, exit code 1 with the stack trace for a bug.
    /// With <paramref name="cancellable"/>, Ctrl+C cancels the handler's token instead of ending the process.
    /// </summary>
    public static Task<int> RunAsync(RootCommand command, string[] args, bool cancellable = false)
    {
        var builder = new CommandLineBuilder(command)
            .UseHelp()
            .UseTypoCorrections()
            .UseParseErrorReporting(ExitCodes.BadInput);
        if (cancellable) builder = builder.CancelOnProcessTermination();
        return builder
            .UseExceptionHandler(errorExitCode: ExitCodes.Failure)
            // Middleware of the default order runs inside the exception handler, so it sees these exceptions first.
            .AddMiddleware(async (context, next) =>
            {
                try
                {
                    await next(context);
                }
                catch (Exception exception) when (Is(exception))
                {
                    context.ExitCode = Report(exception);
                }
            })
            .Build()
            .InvokeAsync(args);
    }

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex LineBreaks();
}

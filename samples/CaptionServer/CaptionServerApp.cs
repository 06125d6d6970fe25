using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>Composes the server: its options, the captioner, the batcher and the routes.</summary>
public static class CaptionServerApp
{
    /// <summary>The server for <paramref name="args"/> (ASP.NET Core's, such as <c>--urls</c>, and the switches of <see cref="CaptionServerOptions"/>).</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddCommandLine(args, CaptionServerOptions.Switches);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        // The host logs a failed start with its stack trace; Program reports it instead (one line for bad input).
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.AddOptions<CaptionServerOptions>().Bind(builder.Configuration.GetSection(CaptionServerOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CaptionServerOptions>, CaptionServerOptionsValidator>();
        builder.Services.AddSingleton(services => ServedCaptioner.Load(services.GetRequiredService<IOptions<CaptionServerOptions>>(), services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton<DecodeGate>();
        builder.Services.AddSingleton<CaptionBatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CaptionBatcher>());
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        // A request that throws gets a 500 problem answer; the process and the other requests go on.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        CaptionEndpoints.Map(app);
        return app;
    }
}

using System.Globalization;
using System.Numerics;
using System.Text;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Torch.Serialization.Pickle;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

[TestFixture]
public sealed class UnpicklerTests
{
    private TempDirectory? directory;

    [OneTimeTearDown]
    public void DeletePickles() => directory?.Dispose();

    private TempDirectory PythonPickles()
    {
        if (directory is not null) return directory;
        PythonReference.Require("torch");
        directory = new TempDirectory();
        PythonReference.Run("serialization_pth.py", "pickles", directory.Path);
        return directory;
    }

    [Test]
    public void Load_ReadsEveryProtocol_AsPythonWroteIt([Range(0, 5)] int protocol)
    {
        var directory = PythonPickles();
        var path = directory.File($"p{protocol}.pkl");

        using var stream = File.OpenRead(path);
        var value = new Unpickler(stream, path, "test", persistentLoad: null).Load();

        Assert.That(Canonical(value), Is.EqualTo(File.ReadAllText(directory.File($"p{protocol}.txt"))));
        Assert.That(stream.Position, Is.EqualTo(stream.Length), "reading stops right after STOP");
        var root = (PickleDictionary)value!;
        Assert.That(root["shared_a"], Is.SameAs(root["shared_b"]), "memoized objects keep their identity");
    }

    [Test]
    public void Load_ReportsTheOffsetOfACorruptOpcode()
    {
        var bytes = new byte[] { 0x80, 0x02, (byte)']', 0xff, (byte)'.' };
        using var stream = new MemoryStream(bytes);
        var error = Assert.Throws<TensorFileException>(() => new Unpickler(stream, "mem.pkl", "data.pkl", null).Load())!;
        Assert.That(error.Message, Does.Contain("mem.pkl").And.Contain("data.pkl").And.Contain("byte 3").And.Contain("0xff"));
    }

    [Test]
    public void Load_NeverTrustsALengthBeyondTheInput()
    {
        // BINUNICODE8 claiming 2^62 bytes: rejected as truncated before anything is allocated.
        var bytes = new byte[] { 0x80, 0x04, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, (byte)'.' };
        using var stream = new MemoryStream(bytes);
        Assert.That(() => new Unpickler(stream, "mem.pkl", "data.pkl", null).Load(),
            Throws.TypeOf<TensorFileException>().With.Message.Contains("truncated"));
    }

    private static string Canonical(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => "i:" + l.ToString(CultureInfo.InvariantCulture),
        BigInteger big => "i:" + big.ToString(CultureInfo.InvariantCulture),
        double d => "f:" + Convert.ToHexString(BitConverter.GetBytes(d)).ToLowerInvariant(),
        string s => "s:" + Convert.ToHexString(Encoding.UTF8.GetBytes(s)).ToLowerInvariant(),
        byte[] bytes => "b:" + Convert.ToHexString(bytes).ToLowerInvariant(),
        object?[] tuple => "(" + string.Join(",", tuple.Select(Canonical)) + ")",
        List<object?> list => "[" + string.Join(",", list.Select(Canonical)) + "]",
        PickleDictionary dictionary => (dictionary.PythonType == "collections.OrderedDict" ? "OrderedDict" : "dict")
            + "{" + string.Join(",", dictionary.Select(e => Canonical(e.Key) + ":" + Canonical(e.Value))) + "}",
        _ => throw new ArgumentException($"unexpected {value.GetType()}"),
    };
}

using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace ImageCaptioning.Torch.Tests.Serialization;

/// <summary>Writes protocol-2 pickles opcode by opcode, for files no pickler would write.</summary>
internal sealed class PickleBytes
{
    private readonly MemoryStream bytes = new();

    public PickleBytes() => Op(0x80, 0x02);

    public PickleBytes Op(params byte[] opcodes)
    {
        bytes.Write(opcodes);
        return this;
    }

    /// <summary>Opcodes written as their ASCII characters.</summary>
    public PickleBytes Op(string opcodes) => Op(Encoding.Latin1.GetBytes(opcodes));

    public PickleBytes Text(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        Op((byte)'X', 0, 0, 0, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.GetBuffer().AsSpan((int)bytes.Length - 4), utf8.Length);
        return Op(utf8);
    }

    public PickleBytes Integer(BigInteger value)
    {
        var encoded = value.ToByteArray(isUnsigned: false, isBigEndian: false);
        return Op(0x8a, (byte)encoded.Length).Op(encoded);
    }

    public PickleBytes Global(string module, string name) => Op("c").Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public PickleBytes Put(uint index) => Op((byte)'r').Op(BitConverter.GetBytes(index));

    public PickleBytes Get(uint index) => Op((byte)'j').Op(BitConverter.GetBytes(index));

    /// <summary>
    /// A tensor of <paramref name="size"/> (contiguous strides) over float storage "0" of
    /// <paramref name="storageElements"/> elements; sizes are arbitrary integers, checks or not.
    /// </summary>
    public PickleBytes FloatTensor(BigInteger storageElements, params BigInteger[] size)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Op("(");
        Op("(").Text("storage").Global("torch", "FloatStorage").Text("0").Text("cpu").Integer(storageElements).Op("tQ");
        Integer(0).Op("(");
        foreach (var s in size) Integer(s);
        Op("t(");
        for (var d = 0; d < size.Length; d++) Integer(1);
        Op("t").Op(0x89).Global("collections", "OrderedDict").Op(")R");
        return Op("tR");
    }

    public byte[] Stop() => Op(".").bytes.ToArray();

    /// <summary>A zip checkpoint as torch.save lays it out: archive/data.pkl and archive/data/&lt;key&gt; records.</summary>
    public static void WriteZip(string path, byte[] pickle, IReadOnlyDictionary<string, byte[]>? records = null, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var data = archive.CreateEntry("archive/data.pkl", level).Open()) data.Write(pickle);
        foreach (var (key, record) in records ?? new Dictionary<string, byte[]>())
            using (var data = archive.CreateEntry($"archive/data/{key}", CompressionLevel.NoCompression).Open())
                data.Write(record);
    }
}

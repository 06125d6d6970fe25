using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ImageCaptioning.Testing;

/// <summary>Tensors to and from the JSON the reference scripts read and print, and the closeness check.</summary>
internal static class TensorJson
{
    public static JsonObject Encode(Tensor t, bool requiresGrad = false)
    {
        var data = new JsonArray();
        switch (t.dtype)
        {
            case ScalarType.Float32:
                foreach (var v in t.ToArray<float>()) data.Add(JsonValue.Create((double)v));
                break;
            case ScalarType.Int64:
                foreach (var v in t.ToArray<long>()) data.Add(JsonValue.Create(v));
                break;
            case ScalarType.Bool:
                foreach (var v in t.ToArray<bool>()) data.Add(JsonValue.Create(v));
                break;
            default:
                throw new NotSupportedException(t.dtype.ToString());
        }
        return new JsonObject
        {
            ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
            ["dtype"] = t.dtype switch { ScalarType.Float32 => "float32", ScalarType.Int64 => "int64", _ => "bool" },
            ["data"] = data,
            ["requires_grad"] = requiresGrad,
        };
    }

    public static Tensor Decode(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = e.GetProperty("data");
        return e.GetProperty("dtype").GetString() switch
        {
            "float32" => torch.tensor(data.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray(), shape),
            "int64" => torch.tensor(data.EnumerateArray().Select(x => x.GetInt64()).ToArray(), shape),
            "bool" => torch.tensor(data.EnumerateArray().Select(x => x.GetInt32() != 0).ToArray(), shape),
            var d => throw new NotSupportedException(d),
        };
    }

    /// <summary>|actual - expected| ≤ atol + rtol·|expected| element-wise, with shapes and dtypes equal.</summary>
    public static void AssertClose(JsonElement expected, Tensor actual, string what, double rtol = 1e-5, double atol = 1e-6)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        Assert.That(actual.shape, Is.EqualTo(shape), $"{what}: shape");
        var dtype = expected.GetProperty("dtype").GetString();
        var data = expected.GetProperty("data").EnumerateArray().ToArray();
        switch (dtype)
        {
            case "float32":
                Assert.That(actual.dtype, Is.EqualTo(ScalarType.Float32), $"{what}: dtype");
                var values = actual.ToArray<float>();
                for (var i = 0; i < values.Length; i++)
                {
                    var e = data[i].GetDouble();
                    if (Math.Abs(values[i] - e) > atol + rtol * Math.Abs(e))
                        Assert.Fail($"{what}: element {i} is {values[i].ToString("R", CultureInfo.InvariantCulture)}, PyTorch has {e.ToString("R", CultureInfo.InvariantCulture)}");
                }
                break;
            case "int64":
                Assert.That(actual.dtype, Is.EqualTo(ScalarType.Int64), $"{what}: dtype");
                Assert.That(actual.ToArray<long>(), Is.EqualTo(data.Select(x => x.GetInt64()).ToArray()), what);
                break;
            case "bool":
                Assert.That(actual.dtype, Is.EqualTo(ScalarType.Bool), $"{what}: dtype");
                Assert.That(actual.ToArray<bool>(), Is.EqualTo(data.Select(x => x.GetInt32() != 0).ToArray()), what);
                break;
            default:
                Assert.Fail($"{what}: unexpected dtype {dtype}");
                break;
        }
    }

    /// <summary>The upstream gradient both sides apply to every differentiable output.</summary>
    public static Tensor Upstream(long[] shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = (float)Math.Sin(0.37 * i + 0.1);
        return torch.tensor(values, shape);
    }
}

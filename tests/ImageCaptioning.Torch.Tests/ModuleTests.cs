using ImageCaptioning.Torch.Modules;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests;

[TestFixture]
public sealed class ModuleTests
{
    private sealed class Recipe : torch.nn.Module<Tensor, Tensor>
    {
        public Recipe()
        {
            register_module("img_to_h", torch.nn.Linear(8, 4));
            register_module("embedding", torch.nn.Embedding(10, 4, padding_idx: 0));
            register_module("lstm", torch.nn.LSTM(4, 4, num_layers: 2, batch_first: true));
            register_module("head", torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(4, 10)));
            register_module("bn", torch.nn.BatchNorm2d(3));
        }

        public override Tensor forward(Tensor input) => throw new NotSupportedException();
    }

    [Test]
    public void StateDictKeysFollowPyTorchNaming()
    {
        using var model = new Recipe();
        Assert.That(model.state_dict().Keys, Is.EqualTo(new[]
        {
            "img_to_h.weight", "img_to_h.bias", "embedding.weight",
            "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
            "head.1.weight", "head.1.bias",
            "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
        }));
        Assert.That(model.named_parameters().Count(), Is.EqualTo(15), "buffers are not parameters");
    }

    [Test]
    public void StrictLoadListsEveryProblemKey()
    {
        using var model = new Recipe();
        using var scope = torch.NewDisposeScope();
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        state.Remove("fc.bias");
        state.Remove("embedding.weight");
        state["extra.weight"] = torch.zeros([1]);
        state["img_to_h.weight"] = torch.zeros([4, 9]);
        var error = Assert.Throws<StateDictMismatchException>(() => model.load_state_dict(state));
        Assert.That(error!.MissingKeys, Is.EqualTo(new[] { "embedding.weight" }));
        Assert.That(error.UnexpectedKeys, Is.EqualTo(new[] { "extra.weight" }));
        Assert.That(error.ShapeMismatches.Single().Key, Is.EqualTo("img_to_h.weight"));
        Assert.That(error.ShapeMismatches.Single().ActualShape, Is.EqualTo(new long[] { 4, 9 }));
        Assert.That(error.Message, Does.Contain("img_to_h.weight").And.Contain("embedding.weight").And.Contain("extra.weight"));
    }

    [Test]
    public void LoadCopiesValuesIntoTheSameParameterObjects()
    {
        torch.manual_seed(3);
        using var a = torch.nn.Linear(3, 2);
        using var b = torch.nn.Linear(3, 2);
        var weightObject = b.weight;
        b.load_state_dict(a.state_dict());
        Assert.That(b.weight, Is.SameAs(weightObject));
        Assert.That(b.weight.ToArray<float>(), Is.EqualTo(a.weight.ToArray<float>()));
        Assert.That(b.weight.requires_grad, Is.True);
    }

    [Test]
    public void EvalTurnsOffDropoutEverywhere()
    {
        using var scope = torch.NewDisposeScope();
        using var chain = torch.nn.Sequential(torch.nn.Dropout(0.9), torch.nn.Identity());
        var x = torch.ones([1000]);
        Assert.That(chain.forward(x).eq(0).sum().item<long>(), Is.GreaterThan(500));
        chain.eval();
        Assert.That(chain.training, Is.False);
        Assert.That(chain[0].training, Is.False);
        Assert.That(chain.forward(x).ToArray<float>(), Is.All.EqualTo(1f));
    }

    [Test]
    public void LstmStepByStepEqualsWholeSequence()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        using var lstm = torch.nn.LSTM(5, 7, num_layers: 2, batch_first: true);
        lstm.eval();
        var x = torch.randn([3, 6, 5]);
        var h = torch.randn([2, 3, 7]);
        var c = torch.randn([2, 3, 7]);
        var (whole, hN, cN) = lstm.forward(x, (h, c));
        var outputs = new List<Tensor>();
        for (var t = 0; t < 6; t++)
        {
            var (o, h1, c1) = lstm.step(x.select(1, t), h, c);
            outputs.Add(o);
            (h, c) = (h1, c1);
        }
        var stepped = torch.stack(outputs, 1);
        Assert.That(stepped.sub(whole).abs().max().item<float>(), Is.LessThan(1e-6f));
        Assert.That(h.sub(hN).abs().max().item<float>(), Is.LessThan(1e-6f));
        Assert.That(c.sub(cN).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void BatchNormTrainingUpdatesRunningStatistics()
    {
        using var scope = torch.NewDisposeScope();
        using var bn = torch.nn.BatchNorm2d(2);
        var x = torch.randn([4, 2, 3, 3]).add(5);
        bn.forward(x);
        Assert.That(bn.num_batches_tracked.item<long>(), Is.EqualTo(1));
        Assert.That(bn.running_mean.ToArray<float>(), Is.All.GreaterThan(0.3f), "mean moved 10% towards ~5");
        bn.eval();
        bn.forward(x);
        Assert.That(bn.num_batches_tracked.item<long>(), Is.EqualTo(1));
    }

    [Test]
    public void ToCpuKeepsParameterIdentity()
    {
        using var linear = torch.nn.Linear(2, 2);
        var weight = linear.weight;
        linear.to(Device.Cpu);
        Assert.That(linear.weight, Is.SameAs(weight));
        Assert.That(linear.weight.device, Is.EqualTo(Device.Cpu));
    }

    [Test]
    public void DisposingAModuleFreesItsTensors()
    {
        var before = Tensor.LiveCount;
        var model = new Recipe();
        Assert.That(Tensor.LiveCount, Is.GreaterThan(before));
        model.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }
}

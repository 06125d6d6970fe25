using System.Text.Json;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>A state_dict saved by the PyTorch recipe with torch.save loads directly and gives the recipe's logits.</summary>
[TestFixture]
[Kernels]
public sealed class RecipePthTests
{
    [TestCase("recipe_zip.pth")]
    [TestCase("recipe_legacy.pth")]
    public void RecipeStateDictLoadsAndGivesTheRecipesLogits(string file)
    {
        PythonReference.Require("torch");
        using var dir = new TempDirectory();
        var expected = JsonDocument.Parse(PythonReference.Run("training_recipe_pth.py", dir.Path, "17")).RootElement;
        using var scope = torch.NewDisposeScope();
        var options = new CaptionModelOptions
        {
            VocabularySize = expected.GetProperty("vocab").GetInt32(),
            FeatureDimension = expected.GetProperty("feature_size").GetInt32(),
            EmbeddingSize = expected.GetProperty("embed_size").GetInt32(),
            HiddenSize = expected.GetProperty("hidden_size").GetInt32(),
            PadId = expected.GetProperty("pad").GetInt32(),
        };
        using var model = CaptionModel.Create(options);
        using (var state = PthReader.ReadStateDict(dir.File(file)))
        {
            var comparison = model.LoadStateDict(state, strict: true, sourceName: file);
            Assert.That(comparison.IsExactMatch, Is.True);
        }
        model.eval();

        var features = TensorJson.Decode(expected.GetProperty("features"));
        var captions = TensorJson.Decode(expected.GetProperty("captions"));
        using (torch.no_grad())
            TensorJson.AssertClose(expected.GetProperty("logits"), model.forward(features, captions), $"logits from {file}", rtol: 1e-5, atol: 1e-5);
    }

    [Test]
    public void RecipeStateDictForAnotherShapeNamesTheFileAndKeys()
    {
        PythonReference.Require("torch");
        using var dir = new TempDirectory();
        PythonReference.Run("training_recipe_pth.py", dir.Path, "3");
        using var model = CaptionModel.Create(new CaptionModelOptions { VocabularySize = 41, FeatureDimension = 24, EmbeddingSize = 12, HiddenSize = 16 });
        using var state = PthReader.ReadStateDict(dir.File("recipe_zip.pth"));
        var error = Assert.Throws<StateDictMismatchException>(() => model.LoadStateDict(state, sourceName: dir.File("recipe_zip.pth")));
        Assert.That(error!.Message, Does.Contain("recipe_zip.pth").And.Contain("embedding.weight").And.Contain("fc.bias"));
    }
}

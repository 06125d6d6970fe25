// Mean cross entropy of a linear layer's logits, with the [N, V] logits held in one buffer through forward and
// backward. cross_entropy(linear(x)) as PyTorch composes it materialises the log-probabilities, a zero-filled NLL
// gradient and a separate log-softmax gradient, all [N, V]. With a 30k-word vocabulary those memory passes cost
// about two vocabulary GEMMs (profiled). Here forward keeps softmax(x W^T + b), and backward turns it into the logits'
// gradient in place (p - onehot(target)) before the two GEMMs that need it.
#include "shim.h"

#include <torch/csrc/autograd/custom_function.h>

#include <limits>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor linear(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias)
{
    return bias.defined() ? at::addmm(bias, input, weight.t()) : at::mm(input, weight.t());
}

void check_arguments(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& target)
{
    TORCH_CHECK(input.dim() == 2, "linear_cross_entropy: input must be [N, in_features], got ", input.sizes());
    TORCH_CHECK(weight.dim() == 2 && weight.size(1) == input.size(1),
                "linear_cross_entropy: weight must be [classes, ", input.size(1), "], got ", weight.sizes());
    TORCH_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)),
                "linear_cross_entropy: bias must be [", weight.size(0), "], got ", bias.sizes());
    TORCH_CHECK(target.dim() == 1 && target.size(0) == input.size(0),
                "linear_cross_entropy: target must be [", input.size(0), "], got ", target.sizes());
    TORCH_CHECK(target.scalar_type() == at::kLong, "linear_cross_entropy: target must be int64 class indices, got ",
                target.scalar_type());
}

struct LinearCrossEntropy : public torch::autograd::Function<LinearCrossEntropy> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                              const at::Tensor& bias, const at::Tensor& target)
    {
        auto logits = linear(input, weight, bias);
        auto column = target.unsqueeze(1);
        // gather bounds-checks the targets, so an out-of-range class is an error rather than a wrong loss.
        auto target_logit = logits.gather(1, column).squeeze(1);
        auto probabilities = at::softmax(logits, 1);
        auto target_probability = probabilities.gather(1, column).squeeze(1);
        // -log p is exact while p is a normal float; below that it has lost digits (and is infinite at 0), so those
        // rows take log-sum-exp of their logits instead. They only occur for targets scored ~87 nats below the best.
        auto per_row = target_probability.log().neg_();
        auto underflow = target_probability < std::numeric_limits<float>::min();
        if (underflow.any().item<bool>()) {
            auto rows = underflow.nonzero().squeeze(1);
            auto exact = logits.index_select(0, rows).logsumexp(1) - target_logit.index_select(0, rows);
            per_row.index_copy_(0, rows, exact.to(per_row.scalar_type()));
        }
        logits.reset();

        ctx->save_for_backward({input, weight});
        ctx->saved_data["probabilities"] = probabilities;
        ctx->saved_data["target"] = target;
        return per_row.mean();
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs)
    {
        auto& slot = ctx->saved_data["probabilities"];
        TORCH_CHECK(slot.isTensor(),
                    "linear_cross_entropy: backward through this loss a second time is not supported (its buffer "
                    "became the gradient); compute the loss again instead of using retain_graph");
        auto probabilities = slot.toTensor();
        slot = at::IValue();
        auto saved = ctx->get_saved_variables();
        const auto& input = saved[0];
        const auto& weight = saved[1];
        auto target = ctx->saved_data["target"].toTensor();

        auto& gradient = probabilities;  // becomes d loss_i / d logits_i = p_i - onehot(target_i), in place
        gradient.scatter_add_(1, target.unsqueeze(1), at::full({gradient.size(0), 1}, -1.0, gradient.options()));
        auto scale = grad_outputs[0] / static_cast<double>(gradient.size(0));

        at::Tensor grad_input, grad_weight, grad_bias;
        if (ctx->needs_input_grad(0)) grad_input = at::mm(gradient, weight).mul_(scale);
        if (ctx->needs_input_grad(1)) grad_weight = at::mm(gradient.t(), input).mul_(scale);
        if (ctx->needs_input_grad(2)) grad_bias = gradient.sum(0).mul_(scale);
        return {grad_input, grad_weight, grad_bias, at::Tensor()};
    }
};

} // namespace

IC_API TensorHandle ic_linear_cross_entropy(TensorHandle input, TensorHandle weight, TensorHandle bias, TensorHandle target)
{
    IC_TRY
    at::Tensor b = bias == nullptr ? at::Tensor() : *bias;
    check_arguments(*input, *weight, b, *target);
    bool needs_grad = at::GradMode::is_enabled() &&
                      (input->requires_grad() || weight->requires_grad() || (b.defined() && b.requires_grad()));
    // Without a backward pass there is no buffer to reuse, and PyTorch's own path is exact; an empty batch gets
    // PyTorch's answer too (NaN, the mean of nothing). The underflow guard is written for float32/float64
    // probabilities, so half-precision types take the composition as well.
    bool fusable_type = input->scalar_type() == at::kFloat || input->scalar_type() == at::kDouble;
    if (!needs_grad || input->size(0) == 0 || !fusable_type)
        return ic::wrap(at::cross_entropy_loss(linear(*input, *weight, b), *target, {}, at::Reduction::Mean, -100, 0.0));
    // Autograd functions take no undefined tensors: a missing bias becomes zeros that need no gradient.
    if (!b.defined()) b = at::zeros({weight->size(0)}, weight->options());
    return ic::wrap(LinearCrossEntropy::apply(*input, *weight, b, *target));
    IC_CATCH(nullptr)
}

// Optimiser steps over a whole parameter list in one call, written to follow torch.optim's single-tensor code
// path operation by operation, so results agree with PyTorch to rounding.
#include "shim.h"

#include <cmath>

// steps[i] is parameter i's own step count (PyTorch keeps one per parameter); parameters without a gradient are
// skipped and keep their count, as in torch.optim.Adam.
IC_API int32_t ic_adam_step(const TensorHandle* params, const TensorHandle* exp_avgs, const TensorHandle* exp_avg_sqs,
                            int64_t* steps, int32_t count, double lr, double beta1, double beta2, double eps,
                            double weight_decay)
{
    IC_TRY
    at::NoGradGuard no_grad;
    for (int32_t i = 0; i < count; ++i) {
        at::Tensor& param = *params[i];
        at::Tensor grad = param.grad();
        if (!grad.defined()) continue;
        at::Tensor& exp_avg = *exp_avgs[i];
        at::Tensor& exp_avg_sq = *exp_avg_sqs[i];
        int64_t step = ++steps[i];
        if (weight_decay != 0) grad = grad.add(param, weight_decay);
        exp_avg.mul_(beta1).add_(grad, 1 - beta1);
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
        double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
        double step_size = lr / bias_correction1;
        double bias_correction2_sqrt = std::sqrt(bias_correction2);
        auto denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
        param.addcdiv_(exp_avg, denom, -step_size);
    }
    return 0;
    IC_CATCH(-1)
}

// momentum_buffers[i] is replaced on the first step (PyTorch creates it lazily from the gradient).
IC_API int32_t ic_sgd_step(const TensorHandle* params, TensorHandle* momentum_buffers, int32_t count, double lr,
                           double momentum, double dampening, double weight_decay, int32_t nesterov)
{
    IC_TRY
    at::NoGradGuard no_grad;
    for (int32_t i = 0; i < count; ++i) {
        at::Tensor& param = *params[i];
        at::Tensor grad = param.grad();
        if (!grad.defined()) continue;
        if (weight_decay != 0) grad = grad.add(param, weight_decay);
        if (momentum != 0) {
            if (momentum_buffers[i] == nullptr) {
                momentum_buffers[i] = ic::wrap(grad.clone().detach());
            } else {
                momentum_buffers[i]->mul_(momentum).add_(grad, 1 - dampening);
            }
            grad = nesterov ? grad.add(*momentum_buffers[i], momentum) : *momentum_buffers[i];
        }
        param.add_(grad, -lr);
    }
    return 0;
    IC_CATCH(-1)
}

// torch.nn.utils.clip_grad_norm_: scales all gradients by max_norm / (total_norm + 1e-6) when that is below 1.
IC_API int32_t ic_clip_grad_norm(const TensorHandle* params, int32_t count, double max_norm, double norm_type,
                                 double* total_norm_out)
{
    IC_TRY
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (int32_t i = 0; i < count; ++i) {
        const auto& g = params[i]->grad();
        if (g.defined()) grads.push_back(g);
    }
    if (grads.empty()) { *total_norm_out = 0; return 0; }
    at::Tensor total_norm;
    if (std::isinf(norm_type)) {
        std::vector<at::Tensor> maxima;
        for (auto& g : grads) maxima.push_back(g.detach().abs().max());
        total_norm = maxima.size() == 1 ? maxima[0] : at::stack(maxima).max();
    } else {
        std::vector<at::Tensor> norms;
        for (auto& g : grads) norms.push_back(at::norm(g.detach(), norm_type));
        total_norm = at::norm(at::stack(norms), norm_type);
    }
    auto clip_coef = max_norm / (total_norm + 1e-6);
    auto clamped = at::clamp(clip_coef, c10::nullopt, 1.0);
    for (auto& g : grads) g.detach().mul_(clamped);
    *total_norm_out = total_norm.item<double>();
    return 0;
    IC_CATCH(-1)
}

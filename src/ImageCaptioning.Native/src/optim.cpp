// Optimiser steps over a whole parameter list in one call, following torch.optim's single-tensor code path
// operation by operation (Adam on float32 CPU tensors fused into one pass), so results agree with PyTorch to rounding.
#include "shim.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace {

// torch.optim.Adam's single-tensor step for one float32 CPU tensor in one pass over memory. PyTorch's version is
// eight elementwise ops (two of them allocating), each a pass over the parameter and its moments; with a 30k-word
// vocabulary the output layer and the embedding alone are 15M parameters. Each line below is one of those ops with
// ATen's rounding (checked bit for bit against the elementwise path by a test): the vectorised add with alpha and
// addcmul end in an FMA, addcdiv multiplies, divides, then adds.
struct AdamScalars {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, weight_decay;
    bool decay;
};

template <bool Fma>
inline float multiply_add(float a, float b, float c)
{
    if constexpr (Fma) return __builtin_fmaf(a, b, c);
    else return a * b + c;
}

template <bool Fma>
inline void adam_range(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t begin, int64_t end,
                       const AdamScalars& k)
{
    for (int64_t i = begin; i < end; ++i) {
        float g = k.decay ? multiply_add<Fma>(param[i], k.weight_decay, grad[i]) : grad[i];
        float m = multiply_add<Fma>(g, k.one_minus_beta1, exp_avg[i] * k.beta1);
        float v = multiply_add<Fma>(k.one_minus_beta2 * g, g, exp_avg_sq[i] * k.beta2);
        float denom = std::sqrt(v) / k.bias_correction2_sqrt + k.eps;
        param[i] = param[i] + k.neg_step_size * m / denom;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
    }
}

__attribute__((target("avx2,fma"))) void adam_range_avx2(float* p, const float* g, float* m, float* v, int64_t b,
                                                          int64_t e, const AdamScalars& k)
{
    adam_range<true>(p, g, m, v, b, e, k);
}

void adam_range_generic(float* p, const float* g, float* m, float* v, int64_t b, int64_t e, const AdamScalars& k)
{
    adam_range<false>(p, g, m, v, b, e, k);
}

bool fusable(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg, const at::Tensor& exp_avg_sq)
{
    for (const auto* t : {&param, &grad, &exp_avg, &exp_avg_sq})
        if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || !t->is_contiguous() || t->is_sparse()) return false;
    return grad.numel() == param.numel() && exp_avg.numel() == param.numel() && exp_avg_sq.numel() == param.numel();
}

void fused_adam(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg, at::Tensor& exp_avg_sq,
                const AdamScalars& k)
{
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    float* p = param.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* m = exp_avg.data_ptr<float>();
    float* v = exp_avg_sq.data_ptr<float>();
    at::parallel_for(0, param.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
        if (avx2) adam_range_avx2(p, g, m, v, begin, end, k);
        else adam_range_generic(p, g, m, v, begin, end, k);
    });
}

} // namespace

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
        if (fusable(param, grad, exp_avg, exp_avg_sq)) {
            double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
            AdamScalars k{static_cast<float>(beta1), static_cast<float>(1 - beta1), static_cast<float>(beta2),
                          static_cast<float>(1 - beta2),
                          static_cast<float>(std::sqrt(1 - std::pow(beta2, static_cast<double>(step)))),
                          static_cast<float>(eps), static_cast<float>(-(lr / bias_correction1)),
                          static_cast<float>(weight_decay), weight_decay != 0};
            fused_adam(param, grad, exp_avg, exp_avg_sq, k);
            continue;
        }
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

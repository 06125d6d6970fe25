using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

// Element-wise arithmetic, comparisons and their operators.
public partial class Tensor
{
    private static Tensor New(IntPtr handle) => new(handle);

    /// <summary>this + alpha * other.</summary>
    public Tensor add(Tensor other, double alpha = 1) => New(NativeMethods.ic_add(Handle, other.Handle, alpha));
    /// <summary>this + value.</summary>
    public Tensor add(double value) => New(NativeMethods.ic_add_scalar(Handle, value));
    /// <summary>this - alpha * other.</summary>
    public Tensor sub(Tensor other, double alpha = 1) => New(NativeMethods.ic_sub(Handle, other.Handle, alpha));
    /// <summary>this - value.</summary>
    public Tensor sub(double value) => New(NativeMethods.ic_add_scalar(Handle, -value));
    /// <summary>Element-wise product.</summary>
    public Tensor mul(Tensor other) => New(NativeMethods.ic_mul(Handle, other.Handle));
    /// <summary>this * value.</summary>
    public Tensor mul(double value) => New(NativeMethods.ic_mul_scalar(Handle, value));
    /// <summary>Element-wise quotient.</summary>
    public Tensor div(Tensor other) => New(NativeMethods.ic_div(Handle, other.Handle));
    /// <summary>this / value.</summary>
    public Tensor div(double value) => New(NativeMethods.ic_div_scalar(Handle, value));
    /// <summary>this ^ exponent.</summary>
    public Tensor pow(double exponent) => New(NativeMethods.ic_pow_scalar(Handle, exponent));
    /// <summary>Matrix product with broadcasting (torch.matmul).</summary>
    public Tensor matmul(Tensor other) => New(NativeMethods.ic_matmul(Handle, other.Handle));
    /// <summary>Element-wise maximum.</summary>
    public Tensor maximum(Tensor other) => New(NativeMethods.ic_maximum(Handle, other.Handle));
    /// <summary>Element-wise minimum.</summary>
    public Tensor minimum(Tensor other) => New(NativeMethods.ic_minimum(Handle, other.Handle));

    /// <summary>-this.</summary>
    public Tensor neg() => New(NativeMethods.ic_neg(Handle));
    /// <summary>|this|.</summary>
    public Tensor abs() => New(NativeMethods.ic_abs(Handle));
    /// <summary>e^this.</summary>
    public Tensor exp() => New(NativeMethods.ic_exp(Handle));
    /// <summary>Natural logarithm.</summary>
    public Tensor log() => New(NativeMethods.ic_log(Handle));
    /// <summary>Square root.</summary>
    public Tensor sqrt() => New(NativeMethods.ic_sqrt(Handle));
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor tanh() => New(NativeMethods.ic_tanh(Handle));
    /// <summary>Logistic sigmoid.</summary>
    public Tensor sigmoid() => New(NativeMethods.ic_sigmoid(Handle));
    /// <summary>max(this, 0).</summary>
    public Tensor relu() => New(NativeMethods.ic_relu(Handle));

    /// <summary>max(this, 0) in place; returns this tensor.</summary>
    public Tensor relu_()
    {
        ThrowHelper.CheckStatus(NativeMethods.ic_relu_(Handle));
        return this;
    }

    /// <summary>Clamps to [min, max]; a null bound is open.</summary>
    public Tensor clamp(double? min = null, double? max = null) =>
        New(NativeMethods.ic_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0));

    /// <summary>Element-wise equality.</summary>
    public Tensor eq(Tensor other) => New(NativeMethods.ic_eq(Handle, other.Handle));
    /// <summary>Element-wise equality with a scalar.</summary>
    public Tensor eq(double value) => New(NativeMethods.ic_eq_scalar(Handle, value));
    /// <summary>Element-wise inequality.</summary>
    public Tensor ne(Tensor other) => New(NativeMethods.ic_ne(Handle, other.Handle));
    /// <summary>Element-wise inequality with a scalar.</summary>
    public Tensor ne(double value) => New(NativeMethods.ic_ne_scalar(Handle, value));
    /// <summary>Element-wise less-than.</summary>
    public Tensor lt(Tensor other) => New(NativeMethods.ic_lt(Handle, other.Handle));
    /// <summary>Element-wise less-than a scalar.</summary>
    public Tensor lt(double value) => New(NativeMethods.ic_lt_scalar(Handle, value));
    /// <summary>Element-wise less-or-equal.</summary>
    public Tensor le(Tensor other) => New(NativeMethods.ic_le(Handle, other.Handle));
    /// <summary>Element-wise less-or-equal a scalar.</summary>
    public Tensor le(double value) => New(NativeMethods.ic_le_scalar(Handle, value));
    /// <summary>Element-wise greater-than.</summary>
    public Tensor gt(Tensor other) => New(NativeMethods.ic_gt(Handle, other.Handle));
    /// <summary>Element-wise greater-than a scalar.</summary>
    public Tensor gt(double value) => New(NativeMethods.ic_gt_scalar(Handle, value));
    /// <summary>Element-wise greater-or-equal.</summary>
    public Tensor ge(Tensor other) => New(NativeMethods.ic_ge(Handle, other.Handle));
    /// <summary>Element-wise greater-or-equal a scalar.</summary>
    public Tensor ge(double value) => New(NativeMethods.ic_ge_scalar(Handle, value));
    /// <summary>Element-wise logical and.</summary>
    public Tensor logical_and(Tensor other) => New(NativeMethods.ic_logical_and(Handle, other.Handle));
    /// <summary>Element-wise logical or.</summary>
    public Tensor logical_or(Tensor other) => New(NativeMethods.ic_logical_or(Handle, other.Handle));
    /// <summary>Element-wise logical not.</summary>
    public Tensor logical_not() => New(NativeMethods.ic_logical_not(Handle));

    /// <summary>Where <paramref name="mask"/> is true, <paramref name="value"/>; elsewhere this.</summary>
    public Tensor masked_fill(Tensor mask, double value) => New(NativeMethods.ic_masked_fill(Handle, mask.Handle, value));
    /// <summary>The elements where <paramref name="mask"/> is true, as a 1-d tensor.</summary>
    public Tensor masked_select(Tensor mask) => New(NativeMethods.ic_masked_select(Handle, mask.Handle));

    /// <summary>Element-wise sum.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => a.add(b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => b.add(a);
    /// <summary>Element-wise difference.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => a.sub(b);
    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(double a, Tensor b) => New(NativeMethods.ic_rsub_scalar(b.Handle, a));
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.neg();
    /// <summary>Element-wise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => a.mul(b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => b.mul(a);
    /// <summary>Element-wise quotient.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double b) => a.div(b);
}

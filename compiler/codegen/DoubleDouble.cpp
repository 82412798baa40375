// compiler/codegen/DoubleDouble.cpp — see DoubleDouble.h. The error analysis is in docs/math.md;
// the MPFR suite (tests/math) measures every function here and samples its edges densely.
#include "compiler/codegen/DoubleDouble.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/IR/BuiltinTypes.h>

#include <initializer_list>

namespace xpr::cg::dd {

using namespace mlir;

namespace {

// Cody–Waite ln 2: k·kLn2Hi is exact for |k| < 2^21 (kLn2Hi has 32 significant bits).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
// 1/√π = kRsqrtPiHi + kRsqrtPiLo (to ~2^-110).
constexpr double kRsqrtPiHi = 0.5641895835477563;
constexpr double kRsqrtPiLo = 7.66772980658294e-18;

// erfc: beyond kErfcTop, erfc is 0 in f64 (below half the least denormal) and Φ is 0 or 1.
constexpr double kErfcTop = 28.0;
constexpr double kAlpha = 1.2142857142857142; // RN(17/14): z(28) ≈ 1
// V(z) = Σ c_k T_k(z), from tests/math/fit_erfc.py: c0 and c1 as hi + lo; c2.. below, highest
// degree first (c27 .. c2).
constexpr double kErfcC0Hi = 1.3641035375265183, kErfcC0Lo = -7.556691011276543e-17;
constexpr double kErfcC1Hi = -0.38053796169233034, kErfcC1Lo = -2.6153650344319277e-17;
constexpr double kErfcCheb[] = {
    -6.426494807020174e-20, -7.877408221531577e-20,  1.247722678469123e-18,
    5.525921860915868e-18,  -1.451003151916746e-17,  -1.7516750395636106e-16,
    -7.942936592628504e-17, 4.3366398539338334e-15,  1.1665236627625361e-14,
    -9.474188629559222e-14, -4.959645207827848e-13,  1.981662130365355e-12,
    1.728725208717428e-11,  -4.564514450352496e-11,  -5.805149702396387e-10,
    1.4867879257630337e-09, 1.9703548422024885e-08,  -7.652897780014478e-08,
    -6.232693621516489e-07, 4.9624940986886716e-06,  6.987990177972734e-06,
    -0.0002777497301315866, 0.0019254202263167554,   -0.0070554540587486605,
    0.009906738855307089,   0.04697921100966895};
constexpr double kErfcC3 = 0.009906738855307089, kErfcC2 = 0.04697921100966895;

/// Vector f64 arithmetic in the shape of the formulas below.
struct Vec {
  OpBuilder &b;
  Location loc;
  VectorType ft, it; // vector<N x f64>, vector<N x i64>

  Vec(OpBuilder &b, Location loc, Value like)
      : b(b), loc(loc), ft(cast<VectorType>(like.getType())),
        it(VectorType::get(ft.getShape(), b.getI64Type())) {}

  Value c(double v) {
    return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(ft, b.getF64FloatAttr(v)));
  }
  Value ci(std::int64_t v) {
    return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(it, b.getI64IntegerAttr(v)));
  }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value neg(Value x) { return b.create<arith::NegFOp>(loc, x); }
  Value fma(Value x, Value y, Value z) { return b.create<math::FmaOp>(loc, x, y, z); }
  Value sel(Value c, Value x, Value y) { return b.create<arith::SelectOp>(loc, c, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y);
  }
  Value abs(Value x) { return b.create<math::AbsFOp>(loc, x); }
  /// The rounding error of x·y (exact through the FMA).
  Value prod_err(Value x, Value y, Value p) { return fma(x, y, neg(p)); }
  /// x + y = s + e exactly (Knuth's TwoSum: no order needed between |x| and |y|).
  std::pair<Value, Value> two_sum(Value x, Value y) {
    Value s = add(x, y);
    Value yv = sub(s, x);
    return {s, add(sub(x, sub(s, yv)), sub(y, yv))};
  }
  /// hi + lo renormalized so that |lo| ≤ ulp(hi)/2 (Fast2Sum: |hi| ≥ |lo| holds at every use).
  std::pair<Value, Value> renorm(Value hi, Value lo) {
    Value s = add(hi, lo);
    return {s, add(sub(hi, s), lo)};
  }
  /// Horner's rule, coefficients from the highest degree down.
  Value poly(Value x, std::initializer_list<double> coef) {
    const double *k = coef.begin();
    Value r = c(*k++);
    for (; k != coef.end(); ++k) r = fma(r, x, c(*k));
    return r;
  }

  /// m·2^k for an integer-valued f64 k, rounded once: two exact power-of-two steps, so only the
  /// last can round (into the denormals) or overflow. |k| is clamped to 2000 (m is near 1, so the
  /// answer is already 0 or inf there); NaN lanes get k = 0.
  Value scale(Value m, Value k) {
    Value ok = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE,
                                       b.create<math::AbsFOp>(loc, k), c(2000));
    Value kk = b.create<arith::SelectOp>(loc, ok, k, c(0));
    kk = b.create<arith::SelectOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, k, c(2000)), c(2000), kk);
    kk = b.create<arith::SelectOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, k, c(-2000)), c(-2000), kk);
    Value ki = b.create<arith::FPToSIOp>(loc, it, kk);
    Value k1 = b.create<arith::ShRSIOp>(loc, ki, ci(1)); // floor(k/2)
    Value k2 = b.create<arith::SubIOp>(loc, ki, k1);
    auto pow2 = [&](Value e) { // 2^e for e in [-1022, 1023]: the exponent field alone
      Value bits = b.create<arith::ShLIOp>(loc, b.create<arith::AddIOp>(loc, e, ci(1023)), ci(52));
      return b.create<arith::BitcastOp>(loc, ft, bits);
    };
    return mul(mul(m, pow2(k1)), pow2(k2));
  }
};

/// (hi + lo)·2^k: a normalized double-double (|lo| ≤ ulp(hi)/2) and an integer-valued f64 k, so
/// results near the ends of the exponent range keep all their bits until the one rounding.
struct Scaled {
  Value hi, lo, k;
};

/// e^(yh + yl), hi + lo in [0.7, 1.42] to ~2^-62 relative: k = round(y/ln 2), r = y - k·ln 2 as s + rl (Cody–Waite, the k·ln2_lo product and the sum kept
/// exactly), then e^r = (1 + s + q)(1 + rl), q = s²P(s) with P the Taylor series to s^13/15!
/// (|s| ≤ 0.347: the truncation is 2^-63). Only the sum 1 + s is split (Fast2Sum) — every other
/// term is below 0.06, so its rounding costs < 2^-57.
Scaled exp_dd(Vec &v, Value yh, Value yl) {
  Value k = v.b.create<math::RoundEvenOp>(v.loc, v.mul(yh, v.c(kInvLn2)));
  Value nk = v.neg(k);
  Value rh = v.fma(nk, v.c(kLn2Hi), yh); // exact: both products of k are exact, rh is small
  Value p = v.mul(nk, v.c(kLn2Lo));
  Value pe = v.prod_err(nk, v.c(kLn2Lo), p);
  auto [s, se] = v.two_sum(rh, p);
  Value rl = v.add(v.add(se, pe), yl);
  Value P = v.poly(s, {1.0 / 1307674368000.0, 1.0 / 87178291200.0, 1.0 / 6227020800.0,
                       1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                       1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                       1.0 / 6.0, 0.5});
  Value q = v.mul(v.mul(s, s), P);
  Value hi = v.add(v.c(1.0), s); // Fast2Sum: |s| < 1
  Value err = v.add(v.sub(v.c(1.0), hi), s);
  // e^(s + rl) = (1 + s + q)(1 + rl); rl·(s + q) matters when yl is not small (erfc's t²).
  Value lo = v.add(err, v.add(q, v.fma(rl, v.add(s, q), rl)));
  auto [nh, nl] = v.renorm(hi, lo); // callers take lo as below ulp(hi)
  return {nh, nl, k};
}

/// erfc(t) for t in [0, kErfcTop] as (hi + lo)·2^k:  e^-t² · V(z) / (√π (t + 1)), where
/// V(z) = (t + 1)√π·e^t²·erfc(t) lies in [1.03, 1.78] and is a Chebyshev series in
/// z = (αt - 3)/(t + 3) ∈ [-1, 1] (28 terms, error 2^-58.9; tests/math/fit_erfc.py). z is a
/// double-double, the series' first two terms are too, and the rest (Σ|c_k| = 0.066) is Clenshaw
/// in double with a first-order term for z's low part: ~2^-57 relative before the last rounding.
Scaled erfc_core(Vec &v, Value th, Value tl) {
  // z = (α t - 3)/(t + 3) as zh + zl.
  Value p = v.mul(v.c(kAlpha), th);
  auto [nh, ne] = v.two_sum(p, v.c(-3.0));
  Value nl = v.add(v.add(ne, v.prod_err(v.c(kAlpha), th, p)), v.mul(v.c(kAlpha), tl));
  auto [dh, de] = v.two_sum(th, v.c(3.0));
  Value dl = v.add(de, tl);
  Value zh = v.div(nh, dh);
  Value zr = v.fma(v.neg(zh), dh, nh); // exact
  Value zl = v.div(v.sub(v.add(zr, nl), v.mul(zh, dl)), dh);
  // S = Σ_{k≥2} c_k T_k(zh) by Clenshaw: b_k = c_k + 2z·b_{k+1} - b_{k+2}, S = z·b_1 - b_2.
  Value z2 = v.add(zh, zh);
  Value b1 = v.c(0.0), b2 = v.c(0.0);
  for (double ck : kErfcCheb) {
    Value bk = v.add(v.fma(z2, b1, v.neg(b2)), v.c(ck));
    b2 = b1;
    b1 = bk;
  }
  Value S = v.fma(zh, v.fma(z2, b1, v.neg(b2)), v.neg(b1));
  // S'(zh) ≈ 4c2·z + c3·(12z² - 3); the rest of S' is < 0.2, times |zl| ≤ 2^-53.
  Value dS = v.fma(v.c(4 * kErfcC2), zh,
                   v.mul(v.c(kErfcC3), v.fma(v.c(12.0), v.mul(zh, zh), v.c(-3.0))));
  // V = c0 + c1·z + S + S'·zl, as Vh + Vl.
  Value q = v.mul(v.c(kErfcC1Hi), zh);
  auto [vh, ve] = v.two_sum(v.c(kErfcC0Hi), q);
  Value vl = v.add(ve, v.prod_err(v.c(kErfcC1Hi), zh, q));
  vl = v.add(vl, v.fma(v.c(kErfcC1Lo), zh, v.c(kErfcC0Lo)));
  vl = v.add(vl, v.fma(v.add(v.c(kErfcC1Hi), dS), zl, S));
  auto [Vh, Vl] = v.renorm(vh, vl);
  // 1/(√π (t + 1)) = qh + ql.
  auto [uh, ue] = v.two_sum(th, v.c(1.0));
  Value ul = v.add(ue, tl);
  Value qh = v.div(v.c(kRsqrtPiHi), uh);
  Value qr = v.fma(v.neg(qh), uh, v.c(kRsqrtPiHi)); // exact
  Value ql = v.div(v.sub(v.add(qr, v.c(kRsqrtPiLo)), v.mul(qh, ul)), uh);
  // e^-t², t² = sh + sl.
  Value sh = v.mul(th, th);
  Value sl = v.fma(v.add(th, th), tl, v.prod_err(th, th, sh));
  Scaled e = exp_dd(v, v.neg(sh), v.neg(sl));
  // (eh + el)(qh + ql)(Vh + Vl).
  Value ph = v.mul(e.hi, qh);
  Value pl = v.add(v.prod_err(e.hi, qh, ph), v.fma(e.hi, ql, v.mul(e.lo, qh)));
  Value mh = v.mul(ph, Vh);
  Value ml = v.add(v.prod_err(ph, Vh, mh), v.fma(ph, Vl, v.mul(pl, Vh)));
  auto [rh, rl] = v.renorm(mh, ml);
  return {rh, rl, e.k};
}

/// base - (hi + lo)·2^(k + extra), rounded once; the scaled parts are exact wherever they are
/// large enough to matter next to base (1 or 2).
Value complement(Vec &v, double base, const Scaled &e, int extra) {
  Value k = v.add(e.k, v.c(static_cast<double>(extra)));
  Value wh = v.scale(e.hi, k), wl = v.scale(e.lo, k);
  auto [sh, se] = v.two_sum(v.c(base), v.neg(wh));
  return v.add(sh, v.sub(se, wl));
}

} // namespace

Value half_exp(OpBuilder &b, Location loc, Value ax) {
  Vec v(b, loc, ax);
  Scaled e = exp_dd(v, ax, v.c(0.0));
  return v.scale(v.add(e.hi, e.lo), v.sub(e.k, v.c(1.0)));
}

Value erfc(OpBuilder &b, Location loc, Value x) {
  using P = arith::CmpFPredicate;
  Vec v(b, loc, x);
  Value t = b.create<arith::MinimumFOp>(loc, v.abs(x), v.c(kErfcTop)); // NaN stays NaN
  Scaled e = erfc_core(v, t, v.c(0.0));
  // x ≥ 0: erfc(t); x < 0: 2 - erfc(t) in double-double, rounded once.
  Value lower = v.scale(v.add(e.hi, e.lo), e.k);
  Value upper = complement(v, 2.0, e, 0);
  Value r = v.sel(v.cmp(P::OLT, x, v.c(0.0)), upper, lower);
  return v.sel(v.cmp(P::UNO, x, x), x, r);
}

std::pair<Value, Value> ncdf_pair(OpBuilder &b, Location loc, Value x) {
  using P = arith::CmpFPredicate;
  Vec v(b, loc, x);
  // t = -x/√2 = th + tl: rounding t alone would cost up to 2t² ULP (1,500 at x = -37).
  const double c_hi = 0.70710678118654757;     // RN(1/√2)
  const double c_lo = -4.8336466567264567e-17; // 1/√2 - c_hi
  Value nx = v.neg(x);
  Value th = v.mul(nx, v.c(c_hi));
  Value tl = v.fma(nx, v.c(c_lo), v.prod_err(nx, v.c(c_hi), th));
  // Φ(x) = erfc(|t|)/2 for t ≥ 0, 1 - erfc(|t|)/2 for t < 0; beyond kErfcTop both are exact at
  // the clamp (0 and 1), and clamping keeps inf - inf out of tl. -x has t's parts negated
  // exactly (round-to-nearest is symmetric), so the same |t| and the sides swapped.
  Value neg = v.cmp(P::OLT, th, v.c(0.0));
  Value far = v.cmp(P::OGE, v.abs(th), v.c(kErfcTop));
  Value ta = v.sel(far, v.c(kErfcTop), v.abs(th));
  Value tla = v.sel(far, v.c(0.0), v.sel(neg, v.neg(tl), tl));
  Scaled e = erfc_core(v, ta, tla);
  Value lower = v.scale(v.add(e.hi, e.lo), v.sub(e.k, v.c(1.0)));
  Value upper = complement(v, 1.0, e, -1);
  return {v.sel(neg, upper, lower), v.sel(v.cmp(P::OGT, th, v.c(0.0)), upper, lower)};
}

} // namespace xpr::cg::dd

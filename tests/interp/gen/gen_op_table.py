#!/usr/bin/python3
# tests/interp/gen/gen_op_table.py — generates tests/interp/data/op_table.csv, the expected values
# of every elementwise op and cast on edge values, computed independently of xpr with NumPy.
#
# Run once with the system NumPy (1.24) and commit the output:
#     /usr/bin/python3 tests/interp/gen/gen_op_table.py > tests/interp/data/op_table.csv
#
# Where NumPy 1.24 disagrees with docs/semantics.md the row holds the documented value, computed
# here by a separate Python rule, and its last column says what NumPy gave ("numpy=..."), so every
# deliberate difference is visible in the data. The rules overridden:
#   - floor/ceil/round/trunc of an integer is the integer (NumPy >= 2.1; 1.24 returns f64)
#   - signbit of an integer is x < 0 (1.24 has no integer loop)
#   - sign(±0) = ±0 (NumPy gives +0 for -0)
#   - minimum/maximum order -0 < +0 (NumPy returns the first operand when they compare equal)
#   - integer ** negative is the truncated exact result (NumPy raises)
#   - float -> int casts saturate, NaN -> 0 (NumPy's result is undefined behaviour in C)
#   - bf16 does not exist in NumPy: bf16 rounding is computed exactly with fractions.Fraction
#
# CSV columns: op, in dtypes ('|'-separated), out dtype, a, b, c, expected, note.
# Values: bool 0/1, integers in decimal, floats as C99 hex floats (exact), nan/inf/-inf.
import itertools
import math
import random
import sys
import warnings
from fractions import Fraction

import numpy as np

warnings.simplefilter("ignore")
np.seterr(all="ignore")
random.seed(1234)

NP = {"bool": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
      "u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64,
      "f16": np.float16, "f32": np.float32, "f64": np.float64}
INTS = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"]
SINTS = INTS[:4]
FLOATS = ["f32", "f64"]


def bits(t):
    return int(t[1:])


def int_edges(t, wide=True):
    lo, hi = (-(1 << (bits(t) - 1)), (1 << (bits(t) - 1)) - 1) if t[0] == "i" else (0, (1 << bits(t)) - 1)
    vals = [0, 1, 2, 3, 7, lo, hi, lo + 1, hi - 1]
    if t[0] == "i":
        vals += [-1, -2, -3, -7]
    if wide:
        vals += [100, hi // 3]
    return sorted({v for v in vals if lo <= v <= hi})


def float_edges(t, wide=True):
    fi = np.finfo(NP[t])
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.0, 7.25, -7.25,
            float("inf"), float("-inf"), float("nan")]
    if wide:
        vals += [0.1, -0.1, 1e-3, 1e10, -1e10, float(fi.max), -float(fi.max), float(fi.tiny),
                 float(fi.smallest_subnormal), -float(fi.smallest_subnormal), math.pi, -math.e]
    return [float(NP[t](v)) for v in vals]


def fmt(t, v):
    if t == "bool":
        return "1" if bool(v) else "0"
    if t in INTS:
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v.hex()


rows = []


def emit(op, ins, out, args, expected, note=""):
    cols = [op, "|".join(ins), out] + [fmt(t, a) for t, a in zip(ins, args)]
    cols += [""] * (3 - len(args))
    cols += [fmt(out, expected), note]
    rows.append(",".join(cols))


def np_out_name(arr):
    for k, v in NP.items():
        if arr.dtype == np.dtype(v):
            return k
    raise ValueError(arr.dtype)


def run_np(fn, ins, args_list):
    cols = [np.array([a[i] for a in args_list], dtype=NP[t]) for i, t in enumerate(ins)]
    return fn(*cols)


# ---- unary float functions ----
def domain_samples(name, t):
    r = []
    rng = {"asin": (-1, 1), "acos": (-1, 1), "atanh": (-1, 1), "acosh": (1, 50),
           "log": (0, 100), "log2": (0, 100), "log10": (0, 100), "log1p": (-1, 100),
           "sqrt": (0, 1e6), "rsqrt": (0, 1e6), "exp": (-80, 80), "exp2": (-120, 120),
           "expm1": (-80, 80), "sinh": (-80, 80), "cosh": (-80, 80)}.get(name, (-20, 20))
    for _ in range(24):
        r.append(float(NP[t](random.uniform(*rng))))
    for _ in range(8):
        r.append(float(NP[t](random.uniform(-1e-3, 1e-3))))
    return r


def np_ncdf(x):
    # erfc(-x/sqrt2)/2 with the argument kept exact: y = fl(-x/sqrt2) in double plus a first-order
    # correction for dy = -x/sqrt2 - y (computed with a 40-digit sqrt2). Rounding the argument first
    # would be off by up to ~1500 ULP in the left tail, where erfc's slope amplifies it.
    from decimal import Decimal, getcontext
    getcontext().prec = 60
    s2 = Decimal(2).sqrt()
    out = []
    for v in x:
        fv = float(v)
        if not math.isfinite(fv):
            out.append(math.erfc(-fv / math.sqrt(2)) / 2)
            continue
        y = -fv / math.sqrt(2)
        dy = float(-Decimal(fv) / s2 - Decimal(y))
        out.append((math.erfc(y) - 2 / math.sqrt(math.pi) * math.exp(-y * y) * dy) / 2)
    return np.array(out).astype(x.dtype)


def np_erf(x):
    return np.array([math.erf(float(v)) for v in x]).astype(x.dtype)


def np_erfc(x):
    return np.array([math.erfc(float(v)) for v in x]).astype(x.dtype)


UNARY_FLOAT = {
    "sqrt": np.sqrt, "rsqrt": lambda x: (x.dtype.type(1) / np.sqrt(x)).astype(x.dtype),
    "cbrt": np.cbrt, "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log,
    "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "erf": np_erf, "erfc": np_erfc, "ncdf": np_ncdf,
}
for name, fn in UNARY_FLOAT.items():
    for t in FLOATS:
        vals = float_edges(t) + domain_samples(name, t)
        res = run_np(fn, [t], [(v,) for v in vals])
        for v, e in zip(vals, res):
            emit(name, [t], t, [v], e)
    # integer operands promote to the smallest float that holds them (NumPy's loops)
    if name in ("sqrt", "exp", "log", "sin", "atan"):
        for t, out in (("i8", "f16"), ("u8", "f16"), ("i16", "f32"), ("u16", "f32"),
                       ("i32", "f64"), ("u64", "f64")):
            vals = int_edges(t)
            res = run_np(fn, [t], [(v,) for v in vals])
            assert np_out_name(res) == out, (name, t, res.dtype)
            for v, e in zip(vals, res):
                emit(name, [t], out, [v], e)

# ---- unary SameNum / bitwise ----
for t in INTS + FLOATS:
    vals = int_edges(t) if t in INTS else float_edges(t)
    for name, fn in (("neg", np.negative), ("abs", np.absolute), ("sign", np.sign),
                     ("floor", np.floor), ("ceil", np.ceil), ("round", np.round),
                     ("trunc", np.trunc)):
        res = run_np(fn, [t], [(v,) for v in vals])
        for v, e in zip(vals, res):
            note = ""
            exp_v = e
            if t in INTS and name in ("floor", "ceil", "round", "trunc"):
                exp_v = v
                if np_out_name(res) != t:
                    note = f"numpy={fmt(np_out_name(res), e)}:{np_out_name(res)}"
            if t in FLOATS and name == "sign" and v == 0:
                exp_v = v
                if math.copysign(1, float(e)) != math.copysign(1, v):
                    note = f"numpy={fmt(t, e)}"
            emit(name, [t], t, [v], exp_v, note)
for t in INTS + ["bool"]:
    vals = int_edges(t) if t != "bool" else [False, True]
    fn = np.logical_not if t == "bool" else np.invert
    res = run_np(fn, [t], [(v,) for v in vals])
    for v, e in zip(vals, res):
        emit("not", [t], t, [v], e)

# ---- predicates ----
for t in INTS + FLOATS + ["bool"]:
    vals = int_edges(t) if t in INTS else float_edges(t) if t in FLOATS else [False, True]
    for name, fn in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
                     ("signbit", np.signbit)):
        if t in FLOATS:
            res = run_np(fn, [t], [(v,) for v in vals])
            for v, e in zip(vals, res):
                emit(name, [t], "bool", [v], e)
        else:
            for v in vals:  # NumPy 1.24 lacks some integer loops: the documented rule
                e = {"isnan": False, "isinf": False, "isfinite": True, "signbit": v < 0}[name]
                emit(name, [t], "bool", [v], e)


# ---- binary arithmetic ----
def wrap(t, v):
    m = 1 << bits(t)
    v %= m
    if t[0] == "i" and v >= m // 2:
        v -= m
    return v


def int_pow(t, a, b):
    if b < 0:
        return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0
    return wrap(t, pow(a, b, 1 << bits(t)))


def float_zero_order(name, a, b, e):
    if a == 0 and b == 0:
        neg_a, neg_b = math.copysign(1, a) < 0, math.copysign(1, b) < 0
        if name == "minimum":
            return a if neg_a else b
        return b if neg_a else a
    return e


BIN = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "floordiv": np.floor_divide,
       "mod": np.remainder, "pow": np.power, "fmod": np.fmod, "minimum": np.minimum,
       "maximum": np.maximum}
for t in INTS + FLOATS:
    vals = int_edges(t, wide=False) if t in INTS else float_edges(t, wide=False) + [0.1, 1e10, float(np.finfo(NP[t]).max)]
    pairs = list(itertools.product(vals, vals))
    for name, fn in BIN.items():
        if name == "pow" and t in INTS:
            ok = [(a, b) for a, b in pairs if b >= 0]
            res = dict(zip(ok, run_np(fn, [t, t], ok)))
            for a, b in pairs:
                e = int_pow(t, a, b)
                if b >= 0:
                    assert int(res[(a, b)]) == e, (t, a, b, res[(a, b)], e)
                    emit(name, [t, t], t, [a, b], e)
                else:
                    emit(name, [t, t], t, [a, b], e, "numpy=raises")
            continue
        res = run_np(fn, [t, t], pairs)
        for (a, b), e in zip(pairs, res):
            note = ""
            exp_v = e
            if t in INTS and name in ("floordiv", "mod", "fmod") and t in SINTS and b == -1 and a == -(1 << (bits(t) - 1)):
                exp_v = a if name == "floordiv" else 0
                if int(e) != exp_v:
                    note = f"numpy={int(e)}"
            if t in FLOATS and name in ("minimum", "maximum"):
                exp_v = float_zero_order(name, a, b, float(e))
                if fmt(t, exp_v) != fmt(t, e):
                    note = f"numpy={fmt(t, e)}"
            emit(name, [t, t], t, [a, b], exp_v, note)
    if t in FLOATS:
        for name, fn in (("div", np.true_divide), ("atan2", np.arctan2), ("hypot", np.hypot),
                         ("copysign", np.copysign)):
            res = run_np(fn, [t, t], pairs)
            for (a, b), e in zip(pairs, res):
                emit(name, [t, t], t, [a, b], e)
    else:
        small = int_edges(t, wide=False)
        pairs = list(itertools.product(small, small))
        res = run_np(np.true_divide, [t, t], pairs)
        for (a, b), e in zip(pairs, res):
            emit("div", [t, t], "f64", [a, b], e)

# 1.0 // 0.1 = 9.0 and friends, as docs/semantics.md promises
for t in FLOATS:
    extra = [(1.0, 0.1), (-1.0, 0.1), (1.0, -0.1), (7.0, 0.7), (-7.5, 2.0), (7.5, -2.0), (1e308, 1e-308) if t == "f64" else (3e38, 1e-38)]
    extra = [(float(NP[t](a)), float(NP[t](b))) for a, b in extra]
    for name, fn in (("floordiv", np.floor_divide), ("mod", np.remainder)):
        res = run_np(fn, [t, t], extra)
        for (a, b), e in zip(extra, res):
            emit(name, [t, t], t, [a, b], e)

# ---- bitwise and shifts ----
for t in INTS + ["bool"]:
    vals = int_edges(t, wide=False) if t != "bool" else [False, True]
    pairs = list(itertools.product(vals, vals))
    for name, fn in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)):
        res = run_np(fn, [t, t], pairs)
        for (a, b), e in zip(pairs, res):
            emit(name, [t, t], t, [a, b], e)
    if t == "bool":
        continue
    counts = [c for c in (0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, -1, -8, -64)
              if wrap(t, c) == c]
    pairs = list(itertools.product(vals, counts))
    for name, fn in (("shl", np.left_shift), ("shr", np.right_shift)):
        res = run_np(fn, [t, t], pairs)
        for (a, b), e in zip(pairs, res):
            emit(name, [t, t], t, [a, b], e)

# ---- comparisons (same dtype, and a few mixed ones computed in the promoted type) ----
CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
       "gt": np.greater, "ge": np.greater_equal}
def cmp_vals(t):
    if t == "bool":
        return [False, True]
    if t in INTS:
        e = int_edges(t, wide=False)
        return sorted({e[0], e[-1], 0, 1, e[-2]} | ({-1} if t in SINTS else set()))
    return [float(NP[t](v)) for v in (float("-inf"), -1.0, -0.0, 0.0, 1.0, 0.1, float("inf"), float("nan"))]


for t in INTS + FLOATS + ["bool"]:
    vals = cmp_vals(t)
    pairs = list(itertools.product(vals, vals))
    for name, fn in CMP.items():
        res = run_np(fn, [t, t], pairs)
        for (a, b), e in zip(pairs, res):
            emit(name, [t, t], "bool", [a, b], e)
for ta, tb in (("i8", "u8"), ("i64", "u64"), ("i32", "f32"), ("u16", "f32"), ("bool", "i8"), ("f32", "f64")):
    va, vb = cmp_vals(ta), cmp_vals(tb)
    pairs = list(itertools.product(va, vb))
    for name, fn in CMP.items():
        res = run_np(fn, [ta, tb], pairs)
        for (a, b), e in zip(pairs, res):
            emit(name, [ta, tb], "bool", [a, b], e)

# ---- where and clip ----
for t in INTS + FLOATS + ["bool"]:
    vals = int_edges(t, wide=False) if t in INTS else float_edges(t, wide=False) if t in FLOATS else [False, True]
    trip = [(c, a, b) for c in (False, True) for a, b in zip(vals, reversed(vals))]
    res = run_np(np.where, ["bool", t, t], trip)
    for (c, a, b), e in zip(trip, res):
        emit("where", ["bool", t, t], t, [c, a, b], e)
for t in INTS + FLOATS:
    vals = int_edges(t, wide=False) if t in INTS else float_edges(t, wide=False)
    lohi = [(vals[1], vals[-2]), (vals[0], vals[0]), (vals[-1], vals[0])] if t in INTS else [(-1.0, 2.5), (-0.0, 0.0), (0.0, -0.0), (float("nan"), 1.0), (1.0, float("-inf"))]
    for x in vals:
        for lo, hi in lohi:
            if t in FLOATS:
                m = float_zero_order("maximum", x, lo, float(np.maximum(NP[t](x), NP[t](lo))))
                e = float_zero_order("minimum", m, hi, float(np.minimum(NP[t](m), NP[t](hi))))
            else:
                e = min(max(x, lo), hi)
                assert int(np.clip(np.array([x], dtype=NP[t]), lo, hi)[0]) == e
            emit("clip", [t, t, t], t, [x, lo, hi], e)


# ---- casts ----
def exact_round(x, ebits, mbits):
    """Round the exact rational x to the IEEE format (ties to even); returns a float."""
    if x == 0:
        return 0.0
    sign = -1 if x < 0 else 1
    x = abs(Fraction(x))
    bias = (1 << (ebits - 1)) - 1
    emin = 1 - bias
    e = x.numerator.bit_length() - x.denominator.bit_length()
    while Fraction(2) ** e > x:
        e -= 1
    while Fraction(2) ** (e + 1) <= x:
        e += 1
    q = max(e, emin) - mbits
    scaled = x / Fraction(2) ** q
    r = math.floor(scaled)
    rem = scaled - r
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and r % 2 == 1):
        r += 1
    v = Fraction(r) * Fraction(2) ** q
    maxv = (2 - Fraction(2) ** -mbits) * Fraction(2) ** bias
    if v > maxv:
        return sign * float("inf")
    return sign * float(v)


# ---- fma: NumPy has none; the exact a*b+c rounded once, with fractions.Fraction ----
def fma_expected(t, a, b, c):
    if not all(math.isfinite(v) for v in (a, b, c)):
        return float(NP["f64"](a) * NP["f64"](b) + NP["f64"](c))  # no rounding involved
    x = Fraction(a) * Fraction(b) + Fraction(c)
    if x == 0:
        if a * b == 0 and c == 0:
            return float(NP[t](a) * NP[t](b) + NP[t](c))  # signed-zero rule of IEEE addition
        return 0.0
    return float(x) if t == "f64" else exact_round(x, 8, 23)


for t in FLOATS:
    eps = float(np.finfo(NP[t]).eps)
    trip = [(1 + eps, 1 - eps, -1.0), (1 + eps, 1 + eps, -1.0), (0.1, 10.0, -1.0), (2.0, 3.0, 4.0),
            (-0.0, 1.0, -0.0), (0.0, -1.0, 0.0), (1.0, 1.0, -1.0), (float("inf"), 0.0, 1.0),
            (float("inf"), 1.0, float("-inf")), (float("nan"), 0.0, 1.0),
            (float(np.finfo(NP[t]).max), 2.0, -float(np.finfo(NP[t]).max)),
            (float(np.finfo(NP[t]).tiny), 0.5, float(np.finfo(NP[t]).smallest_subnormal)),
            (1e10, 1e10, 1.0), (3.0, 1.0 / 3.0, -1.0)]
    for a, b, c in trip:
        a, b, c = (float(NP[t](v)) for v in (a, b, c))
        emit("fma", [t, t, t], t, [a, b, c], fma_expected(t, a, b, c))


def saturate(t, v):
    if math.isnan(v):
        return 0
    lo, hi = (-(1 << (bits(t) - 1)), (1 << (bits(t) - 1)) - 1) if t[0] == "i" else (0, (1 << bits(t)) - 1)
    if math.isinf(v):
        return hi if v > 0 else lo
    return max(lo, min(hi, int(v)))  # int() truncates toward zero


ALL = ["bool"] + INTS + ["f16", "f32", "f64"]
for src in ALL + ["bf16"]:
    if src == "bool":
        vals = [False, True]
    elif src in INTS:
        vals = int_edges(src) + ([2049, 65519, 65520, 1 << 24 | 1] if bits(src) >= 32 else [])
        if src in ("i64", "u64"):
            vals += [(1 << 60) + (1 << 52) + 1, (1 << 53) + 1]
    elif src == "bf16":
        vals = [0.0, -0.0, 1.0, -1.5, 3.0e38, -3.3895313892515355e38, 9.183549615799121e-41, float("inf"), float("nan"), 300.0, -129.0, 1.0e10]
        vals = [exact_round(Fraction(v), 8, 7) if math.isfinite(v) and v != 0 else v for v in vals]
    else:
        vals = float_edges(src) + [65504.0, 65520.0, 65519.99, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26,
                                   1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8 + 2.0 ** -30,
                                   -129.5, 255.9, 256.0, 2.0 ** 31, -2.0 ** 31, 2.0 ** 63, 2.0 ** 64, -2.0 ** 63 - 4096.0,
                                   1 + 2.0 ** -11 + 2.0 ** -40]
        vals = [float(NP[src](v)) for v in vals]
    for dst in ALL + ["bf16"]:
        for v in vals:
            note = ""
            if dst == "bf16" or src == "bf16":
                if dst == "bf16":
                    if src == "bool" or src in INTS:
                        e = exact_round(int(v), 8, 7)
                    elif math.isnan(v) or math.isinf(v):
                        e = v
                    else:
                        e = exact_round(Fraction(v), 8, 7) if v != 0 else v
                else:  # bf16 values are exact in f32
                    if dst == "bool":
                        e = v != 0
                    elif dst in INTS:
                        e = saturate(dst, v)
                    elif dst == "f16":
                        e = v if (math.isnan(v) or math.isinf(v) or v == 0) else exact_round(Fraction(v), 5, 10)
                    else:
                        e = v
                emit("cast", [src], dst, [v], e)
                continue
            arr = np.array([v], dtype=NP[src])
            npv = arr.astype(NP[dst])[0]
            e = npv
            if src in ("f16", "f32", "f64") and dst in INTS:
                e = saturate(dst, v)
                if int(npv) != e:
                    note = f"numpy={int(npv)}"
            emit("cast", [src], dst, [v], e, note)

print("# generated by tests/interp/gen/gen_op_table.py with numpy " + np.__version__ + "; do not edit")
print("op,in,out,a,b,c,expected,note")
print("\n".join(rows))

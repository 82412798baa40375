#!/usr/bin/env python3
# tests/repl/numpy_test.py — `xpr` against NumPy as an independent party: NumPy writes the .npy
# inputs, xpr runs, NumPy reads the outputs back and checks the values; printed arrays must equal
# NumPy's repr. Usage: numpy_test.py XPR CASE SOURCE_DIR. Exit 0 pass, 1 fail, 77 skipped.
import os
import subprocess
import sys
import tempfile

XPR, CASE, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    import numpy as np
except ImportError:
    print("SKIP: NumPy is not installed (Debian: python3-numpy)")
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix="xpr-numpy-")
ENV = dict(os.environ, NO_COLOR="1")


def path(name):
    return os.path.join(TMP, name)


def xpr(*args, stdin=None):
    return subprocess.run([XPR, *args], input=stdin, capture_output=True, text=True, env=ENV, cwd=TMP)


def fail(msg):
    print(f"FAIL [{CASE}]: {msg}")
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def repr22(a):
    """NumPy 2.2's array repr (it adds shape= to summarized arrays), also on older NumPy."""
    prefix = "array("
    implied = a.dtype in (np.float64, np.int64, np.bool_)
    extras = []
    if (a.size == 0 and a.shape != (0,)) or a.size > 1000:
        extras.append("shape=%r" % (a.shape,))
    if not implied or a.size == 0:
        extras.append("dtype=%s" % a.dtype.name)
    lst = np.array2string(a, separator=", ", prefix=prefix, suffix=")")
    if not extras:
        return prefix + lst + ")"
    arr = prefix + lst + ","
    extra = ", ".join(extras) + ")"
    last = len(arr) - (arr.rfind("\n") + 1)
    spacer = "\n" + " " * len(prefix) if last + len(extra) + 1 > 75 else " "
    return arr + spacer + extra


def case_repr():
    rng = np.random.default_rng(1)
    cases = {
        "f64": np.array([1.0, 2.0, 3.0]),
        "f64frac": np.array([0.1, 1 / 3, 2.5]),
        "f32frac": np.array([0.1, 1 / 3, 2.5], dtype=np.float32),
        "f16": np.array([0.1, 1 / 3, 2.5, 65504, -0.0], dtype=np.float16),
        "f16b": np.arange(20, dtype=np.float16) / 7,
        "exp": np.array([1e-5, 1.5, 3]),
        "exp2": np.array([1e10, 1, -2.5e-3]),
        "big": np.array([1e8, 2]),
        "special": np.array([np.nan, 1.5, np.inf, -np.inf]),
        "allnan": np.array([np.nan, np.inf]),
        "negzero": np.array([-0.0, 0.0, 1.0]),
        "i32": np.array([1, -200, 30000], dtype=np.int32),
        "u64": np.array([0, 2**64 - 1], dtype=np.uint64),
        "i8": np.array([-128, 127, 0], dtype=np.int8),
        "u8": np.arange(250, 256, dtype=np.uint8),
        "bools": np.array([True, False, True]),
        "bool2d": np.array([[True], [False]]),
        "wide": np.arange(40, dtype=np.float64) / 7,
        "wideint": np.arange(100),
        "2d": np.arange(12, dtype=np.float32).reshape(3, 4) / 3,
        "3d": np.arange(24).reshape(2, 3, 4),
        "summary1": np.arange(2000, dtype=np.float32) / 3,
        "summary2": np.arange(3000).reshape(30, 100),
        "summary3": rng.random((20, 20, 20)),
        "scalar": np.array(2.5),
        "scalar32": np.array(1.0, dtype=np.float32),
        "scalarbool": np.array(True),
        "empty": np.zeros(0, dtype=np.float32),
        "empty2": np.zeros((0, 3)),
        "extremes": np.array([1e-300, 1e300]),
        "mixed": np.array([123456.789, 0.001]),
        "rand32": rng.random(10).astype(np.float32),
        "randn": rng.standard_normal((4, 5)),
        "rank5": np.arange(32, dtype=np.int16).reshape(2, 2, 2, 2, 2),
    }
    bad = []
    for name, a in cases.items():
        np.save(path(name + ".npy"), a)
        r = xpr("-e", "x", "--in", f"x={name}.npy")
        got, want = r.stdout.rstrip("\n"), repr22(a)
        if r.returncode != 0 or got != want:
            bad.append(f"{name}:\n got: {got}\n{r.stderr} want: {want}")
    expect(not bad, "\n".join(bad))


def bs_reference(S, K, T, r, v):
    from math import erf, exp, log, sqrt
    ncdf = np.vectorize(lambda x: 0.5 * (1 + erf(x / sqrt(2))))
    S, K, T = (x.astype(np.float64) for x in (S, K, T))
    d1 = (np.log(S / K) + (r + 0.5 * v * v) * T) / (v * np.sqrt(T))
    d2 = d1 - v * np.sqrt(T)
    call = S * ncdf(d1) - K * np.exp(-r * T) * ncdf(d2)
    put = K * np.exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)
    return call, put


def case_run_blackscholes():
    rng = np.random.default_rng(5)
    n = 5000
    S = rng.uniform(50, 150, n).astype(np.float32)
    K = rng.uniform(50, 150, n).astype(np.float32)
    T = rng.uniform(0.1, 2.0, n).astype(np.float32)
    for name, a in (("S", S), ("K", K), ("T", T)):
        np.save(path(name + ".npy"), a)
    script = os.path.join(SRC, "examples", "blackscholes.xpr")
    r = xpr("run", script, "--in", "S=S.npy", "--in", "K=K.npy", "--in", "T=T.npy",
            "--param", "r=0.05", "--param", "v=0.2", "--out", "call=call.npy", "--out", "put=put.npy")
    expect(r.returncode == 0 and r.stdout == "" and r.stderr == "", f"rc={r.returncode}\n{r.stdout}\n{r.stderr}")
    call, put = np.load(path("call.npy")), np.load(path("put.npy"))
    expect(call.dtype == np.float32 and call.shape == (n,), f"call is {call.dtype}{call.shape}")
    ref_call, ref_put = bs_reference(S, K, T, 0.05, 0.2)
    err_call = np.max(np.abs(call - ref_call) / np.maximum(1.0, np.abs(ref_call)))
    err_put = np.max(np.abs(put - ref_put) / np.maximum(1.0, np.abs(ref_put)))
    expect(err_call < 1e-4 and err_put < 1e-4, f"max error call {err_call}, put {err_put}")
    # Without --out an output is printed instead.
    r = xpr("run", script, "--in", "S=S.npy", "--in", "K=K.npy", "--in", "T=T.npy",
            "--param", "r=0.05", "--param", "v=0.2", "--out", "call=call2.npy")
    expect(r.returncode == 0 and r.stdout.startswith("put = array(["), r.stdout + r.stderr)
    expect("shape=(5000,), dtype=float32)" in r.stdout, r.stdout)
    expect(np.array_equal(np.load(path("call2.npy")), call), "same result twice")


def case_eval_expr():
    a = np.arange(6, dtype=np.float64).reshape(2, 3) / 4
    b = np.array([10.0, 20.0, 30.0])
    np.save(path("a.npy"), a)
    np.save(path("b.npy"), b)
    r = xpr("-e", "a * 2 + b", "--in", "a=a.npy", "--in", "b=b.npy")
    expect(r.returncode == 0 and r.stdout == repr22(a * 2 + b) + "\n", r.stdout + r.stderr)
    # Transcendental results, compared numerically through a file NumPy reads.
    x = np.linspace(-3, 3, 1001).astype(np.float32)
    np.save(path("x.npy"), x)
    r = xpr("--in", "x=x.npy", stdin='save("y.npy", exp(-x * x) * sin(x) + tanh(x))\n')
    expect(r.returncode == 0, r.stderr)
    y = np.load(path("y.npy"))
    ref = (np.exp(-x.astype(np.float64) ** 2) * np.sin(x.astype(np.float64)) + np.tanh(x.astype(np.float64)))
    expect(y.dtype == np.float32 and np.max(np.abs(y - ref)) < 1e-6, f"max abs error {np.max(np.abs(y - ref))}")
    # User errors: exit 1 with a caret diagnostic; usage errors: exit 2.
    r = xpr("-e", "a + nope", "--in", "a=a.npy")
    expect(r.returncode == 1 and r.stderr == "<expr>:1:5: error: unknown name 'nope'\n  a + nope\n      ^~~~\n", repr(r.stderr))
    r = xpr("-e", "a", "--in", "a")
    expect(r.returncode == 2 and "--in expects NAME=VALUE, got 'a'" in r.stderr, r.stderr)


def case_npy_dtypes():
    arrays = {
        "b1": np.array([True, False, True]),
        "i1": np.array([-128, 0, 127], dtype=np.int8),
        "i2": np.array([-32768, 1, 32767], dtype=np.int16),
        "i4": np.array([-2**31, 1, 2**31 - 1], dtype=np.int32),
        "i8": np.array([-2**63, 1, 2**63 - 1], dtype=np.int64),
        "u1": np.array([0, 1, 255], dtype=np.uint8),
        "u2": np.array([0, 1, 65535], dtype=np.uint16),
        "u4": np.array([0, 1, 2**32 - 1], dtype=np.uint32),
        "u8": np.array([0, 1, 2**64 - 1], dtype=np.uint64),
        "f2": np.array([0.5, -np.inf, 65504, 6e-8], dtype=np.float16),
        "f4": np.array([np.nan, -0.0, 3.4e38, 1e-45], dtype=np.float32),
        "f8": np.array([np.pi, -np.inf, 5e-324, 1e308]),
    }
    script = ""
    for name, a in arrays.items():
        for version in ((1, 0), (2, 0), (3, 0)):
            fn = f"{name}_v{version[0]}.npy"
            with open(path(fn), "wb") as f:
                np.lib.format.write_array(f, a, version=version)
            script += f'x = load("{fn}")\nsave("out_{fn}", x)\n'
    r = xpr(stdin=script)
    expect(r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr)
    for name, a in arrays.items():
        for v in (1, 2, 3):
            b = np.load(path(f"out_{name}_v{v}.npy"))
            expect(b.dtype == a.dtype and b.shape == a.shape, f"{name} v{v}: {b.dtype}{b.shape}")
            expect(a.tobytes() == b.tobytes(), f"{name} v{v}: {a} != {b}")
    # Arithmetic on loaded data agrees with NumPy (integer wrap-around included).
    r = xpr(stdin='a = load("i4_v1.npy")\nsave("sum.npy", a + a)\nb = load("u1_v1.npy")\nsave("u.npy", b * 3)\n')
    expect(r.returncode == 0, r.stderr)
    with np.errstate(over="ignore"):
        expect(np.array_equal(np.load(path("sum.npy")), arrays["i4"] + arrays["i4"]), "i4 + i4")
        expect(np.array_equal(np.load(path("u.npy")), arrays["u1"] * np.uint8(3)), "u1 * 3")
    # bf16 has no NumPy dtype: saving one is a clear error.
    r = xpr(stdin='save("h.npy", zeros(2, dtype=bf16))\n')
    expect(r.returncode == 1 and "bf16 has no NumPy dtype" in r.stderr, r.stderr)


def case_npy_orders():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    np.save(path("f.npy"), np.asfortranarray(a))
    np.save(path("c.npy"), a)
    np.save(path("be.npy"), a.astype(">f8"))
    np.save(path("bei.npy"), np.arange(-3, 3).astype(">i2"))
    np.save(path("fi.npy"), np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)))
    with open(path("f.npy"), "rb") as fh:
        expect(b"'fortran_order': True" in fh.read(128), "NumPy wrote Fortran order")
    r = xpr(stdin='f = load("f.npy")\nsave("f2.npy", f * 2)\nbe = load("be.npy")\nsave("be2.npy", be + 1)\n'
                  'bi = load("bei.npy")\nsave("bi.npy", bi)\nfi = load("fi.npy")\nsave("fi2.npy", fi)\n'
                  'reshape(load("fi.npy"), (2, 6))\n')
    expect(r.returncode == 0, r.stderr)
    expect(np.array_equal(np.load(path("f2.npy")), a * 2), "Fortran order")
    expect(np.array_equal(np.load(path("be2.npy")), a + 1), "big-endian f8")
    bi = np.load(path("bi.npy"))
    expect(bi.dtype == np.int16 and list(bi) == [-3, -2, -1, 0, 1, 2], f"big-endian i2: {bi}")
    expect(np.array_equal(np.load(path("fi2.npy")), np.arange(12, dtype=np.int32).reshape(3, 4)), "Fortran i4")
    expect(r.stdout == repr22(np.arange(12, dtype=np.int32).reshape(2, 6)) + "\n", r.stdout)


def case_run_errors():
    script = os.path.join(SRC, "examples", "blackscholes.xpr")
    S = np.ones(4, dtype=np.float32)
    np.save(path("S.npy"), S)
    np.save(path("S64.npy"), S.astype(np.float64))
    with open(path("bad.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (4,)}\n")
    base = ["run", script, "--param", "r=0.05", "--param", "v=0.2"]
    checks = [
        (base + ["--in", "S=S.npy", "--in", "K=S.npy"], 1,
         f"error: input 'T: f32[n]' of {script} is not given: add --in T=FILE.npy"),
        (base + ["--in", "S=S.npy", "--in", "K=S.npy", "--in", "T=S64.npy"], 1,
         f"error: --in T=S64.npy: the script declares T: f32[n], the file holds f64[4] (no implicit "
         "conversion; cast in the script or convert the file)"),
        (base + ["--in", "S=S.npy", "--in", "K=S.npy", "--in", "T=bad.npy"], 1,
         "error: cannot load 'bad.npy': malformed header: the key 'fortran_order' is missing"),
        (base + ["--in", "S=S.npy", "--in", "K=S.npy", "--in", "T=S.npy", "--in", "Q=S.npy"], 1,
         f"error: --in Q: {script} has no input 'Q' (inputs: S: f32[n], K: f32[n], T: f32[n])"),
        (base + ["--in", "S=S.npy", "--in", "K=S.npy", "--in", "T=S.npy", "--out", "nope=x.npy"], 1,
         f"error: --out nope: {script} has no output 'nope' (outputs: call: f32[n], put: f32[n])"),
        (["run", script, "--param", "r=abc"], 1, None),
        (["run", script, "--in", "S"], 2, "xpr: --in expects NAME=VALUE, got 'S'"),
        (["run"], 2, None),
        (["run", "no/such.xpr"], 2, None),
        (["--emit=bogus", script], 2, None),
    ]
    for args, rc, err in checks:
        r = xpr(*args)
        expect(r.returncode == rc, f"{args}: rc {r.returncode}, want {rc}\n{r.stderr}")
        if err is not None:
            expect(r.stderr.rstrip("\n") == err, f"{args}:\n got: {r.stderr!r}\nwant: {err!r}")
    r = xpr(*(base[:2] + ["--in", "S=S.npy", "--in", "K=S.npy", "--in", "T=S.npy", "--param", "r=abc", "--param", "v=1"]))
    expect(r.returncode == 1 and "--param r=abc: not a number" in r.stderr, r.stderr)


def case_stdin_repl():
    r = xpr(stdin="a = arange(3)\na + 1\n:type a * 0.5\n")
    expect(r.returncode == 0 and r.stdout == "array([1, 2, 3])\nf64[3]\n" and r.stderr == "", repr(r.stdout + r.stderr))
    r = xpr(stdin="a = arange(3)\na +\na * 2\n")
    expect(r.returncode == 1, f"rc {r.returncode}")
    expect(r.stdout == "array([0, 2, 4])\n", repr(r.stdout))
    expect(r.stderr == "<repl>:1:4: error: expected an expression, found end of input\n  a +\n     ^\n", repr(r.stderr))
    r = xpr("--echo", stdin="b = arange(2)\nb\n:quit\nb\n")
    expect(r.returncode == 0 and r.stdout == "xpr> b = arange(2)\nxpr> b\narray([0, 1])\nxpr> :quit\n", repr(r.stdout))
    # No colour without a terminal, even when asked for by the environment.
    r = xpr(stdin="nope\n")
    expect("\033[" not in r.stderr, repr(r.stderr))


def case_demo():
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(XPR))))
    r = subprocess.run(["bash", os.path.join(SRC, "examples", "demo.sh"), build], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, env=ENV, cwd=TMP)
    out = r.stdout + r.stderr
    expect(r.returncode == 0, f"rc {r.returncode}\n{out}")
    for needle in ["xpr> :type", "xpr> :time", "GB/s", "xpr> :emit fused", "kernel k0",
                   "error:", "^", "xpr run", "call = array(["]:
        expect(needle in out, f"demo output lacks {needle!r}\n{out}")


def case_emit_stages():
    script = os.path.join(SRC, "examples", "blackscholes.xpr")
    r = xpr("--emit=fused", script)
    expect(r.returncode == 0 and r.stdout.rstrip().endswith("} # 1 kernel(s), 0 reduction(s), 0 intermediate buffer(s)"), r.stdout + r.stderr)
    for stage, needle in (("opt", "graph {"), ("mlir", "func.func"), ("mlir-llvm", "llvm.func"), ("llvm", "define"), ("asm", "ret")):
        r = xpr(f"--emit={stage}", "-e", "a * exp(-b)", "--decl", "a: f32[n], b: f32[n]")
        expect(r.returncode == 0 and needle in r.stdout, f"{stage}: {r.stdout[:400]}{r.stderr}")
    np.save(path("a.npy"), np.zeros((3, 1), dtype=np.float32))
    r = xpr("--emit=ir", "-e", "a * 2", "--in", "a=a.npy")
    expect(r.returncode == 0 and 'input "a" : f32[d0, 1]' in r.stdout, r.stdout + r.stderr)
    r = xpr("--emit=ptx", script)
    # PTX needs no GPU; its math functions need the CUDA toolkit's libdevice (docs/gpu.md).
    expect((r.returncode == 0 and ".entry k0(" in r.stdout) or
           (r.returncode == 1 and "libdevice not found" in r.stderr), r.stdout[:400] + r.stderr)


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}
try:
    CASES[CASE]()
    print(f"PASS [{CASE}]")
finally:
    import shutil
    shutil.rmtree(TMP, ignore_errors=True)

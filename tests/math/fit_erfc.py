#!/usr/bin/env python3
"""tests/math/fit_erfc.py — derives the erfc constants of compiler/codegen/DoubleDouble.cpp.

erfc(t) = e^(-t^2) * V(z) / (sqrt(pi) * (t + 1)) for t in [0, 28], where
V = (t + 1) * sqrt(pi) * e^(t^2) * erfc(t) is smooth and lies in [1.03, 1.78], and
z = (alpha*t - 3) / (t + 3) maps [0, 28] onto [-1, 1] (alpha = RN(17/14), so t = 28 lands at z ~ 1).
V is interpolated at Chebyshev nodes at 240-bit precision; the coefficients above 2^-64 are kept.
c0 and c1 are printed as hi + lo pairs (the kernel sums them in double-double), c2.. as doubles
from the highest degree down, the order Clenshaw's recurrence consumes them.

Prints the C++ constants and the largest relative error of the truncated, double-rounded series
over 4001 points of [-1, 1] (reproduced: 2^-58.9).

    apt-get install python3-mpmath && python3 tests/math/fit_erfc.py
"""
import mpmath as m

m.mp.prec = 240
ALPHA = m.mpf(float(m.mpf(17) / 14))
NODES = 96


def v_of_z(z):
    t = (3 * z + 3) / (ALPHA - z)
    return (t + 1) * m.sqrt(m.pi) * m.exp(t * t) * m.erfc(t)


def clenshaw(z, cs):
    b1 = b2 = m.mpf(0)
    for ck in reversed(cs[1:]):
        b1, b2 = ck + 2 * z * b1 - b2, b1
    return cs[0] + z * b1 - b2


def main():
    nodes = [m.cos(m.pi * (k + m.mpf(1) / 2) / NODES) for k in range(NODES)]
    vals = [v_of_z(z) for z in nodes]
    c = [2 * sum(v * m.cos(m.pi * j * (k + m.mpf(1) / 2) / NODES) for k, v in enumerate(vals)) / NODES
         for j in range(NODES)]
    c[0] /= 2
    n = max(j for j in range(NODES) if abs(c[j]) > m.mpf(2) ** -64) + 1
    # What the kernel sums: c0, c1 exactly enough (hi + lo), the rest rounded to doubles.
    used = [c[0], c[1]] + [m.mpf(float(x)) for x in c[2:n]]
    worst = max(abs(clenshaw(z, used) - v_of_z(z)) / v_of_z(z)
                for z in (m.mpf(-1) + m.mpf(i) / 2000 for i in range(4001)))
    h0, h1 = float(c[0]), float(c[1])
    print(f"// {n} terms; largest relative error of the series: 2^{float(m.log(worst, 2)):.1f}")
    print(f"constexpr double kAlpha = {float(ALPHA)!r};")
    print(f"constexpr double kErfcC0Hi = {h0!r}, kErfcC0Lo = {float(c[0] - h0)!r};")
    print(f"constexpr double kErfcC1Hi = {h1!r}, kErfcC1Lo = {float(c[1] - h1)!r};")
    print("constexpr double kErfcCheb[] = {" + ", ".join(repr(float(x)) for x in reversed(c[2:n])) + "};")
    print(f"constexpr double kErfcC3 = {float(c[3])!r}, kErfcC2 = {float(c[2])!r};")


if __name__ == "__main__":
    main()

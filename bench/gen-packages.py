#!/usr/bin/env python3
"""Generates the source trees of a synthetic package set for bench/compose.

Sizes are drawn like a real distribution's: most files are small (a log-normal around a
few hundred bytes to a few KiB), a few are large (up to several MiB). Deterministic for a
given seed so runs compare.
"""
import os
import random
import sys


def main():
    out, npkgs, nfiles, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    per_pkg = [1] * npkgs
    for _ in range(nfiles - npkgs):
        # A few packages are much bigger than the rest, as in a distribution.
        per_pkg[min(int(rng.paretovariate(1.2)) - 1, npkgs - 1) if rng.random() < 0.3
                else rng.randrange(npkgs)] += 1
    blob = os.urandom(8 << 20)
    total = 0
    for i in range(npkgs):
        root = os.path.join(out, "pkg%03d" % i)
        for j in range(per_pkg[i]):
            sub = os.path.join(root, "usr", "share", "bench-pkg%03d" % i, "d%02d" % (j % 20))
            os.makedirs(sub, exist_ok=True)
            if rng.random() < 0.002:
                size = rng.randint(1 << 20, 6 << 20)
            else:
                size = min(int(rng.lognormvariate(7.0, 1.6)), 1 << 20)
            off = rng.randrange(0, len(blob) - size)
            with open(os.path.join(sub, "f%05d" % j), "wb") as f:
                f.write(blob[off:off + size])
            total += size
    print("%d packages, %d files, %.1f MiB" % (npkgs, sum(per_pkg), total / 1048576.0))


if __name__ == "__main__":
    main()

#!/bin/sh
# The folders of src/lib are layers: a folder may call the folders included
# before it in Makefile.am, never one included after it, and no two files of
# libdsr call each other in a circle. Read from the symbols of the built
# objects (nm), so a call hidden behind a header or a macro counts too.
set -u
top=${DSR_TOP_SRCDIR:-$(dirname "$0")/..}
build=${DSR_TOP_BUILDDIR:-.}
exec python3 - "$top" "$build" <<'PY'
import collections, glob, os, subprocess, sys
top, build = sys.argv[1], sys.argv[2]
order = []
for line in open(os.path.join(top, "Makefile.am")):
    w = line.split()
    if len(w) == 2 and w[0] == "include" and w[1].startswith("$(srcdir)/mk/"):
        name = w[1][len("$(srcdir)/mk/"):-len(".am")]
        if os.path.isdir(os.path.join(top, "src/lib", name)):
            order.append(name)
defs, undef, folder = {}, collections.defaultdict(set), {}
for d in order:
    objs = glob.glob(os.path.join(build, "src/lib", d, "*.o"))
    if not objs:
        print(f"FAIL src/lib/{d}: no object files under {build}")
        sys.exit(1)
    for o in objs:
        f = f"{d}/{os.path.basename(o)[:-2]}"
        folder[f] = d
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRC":
                defs[p[2]] = f
            elif len(p) == 2 and p[0] == "U":
                undef[f].add(p[1])
calls = collections.defaultdict(set)
fail = 0
for f, names in sorted(undef.items()):
    for n in sorted(names):
        g = defs.get(n)
        if not g or g == f:
            continue
        calls[f].add(g)
        if order.index(folder[g]) > order.index(folder[f]):
            print(f"FAIL {f}.c calls {n} of {g}.c, a folder listed after it in Makefile.am (a higher layer)")
            fail = 1
# Circles between files: Tarjan's strongly connected components.
index, low, stack, on, n = {}, {}, [], set(), [0]
sys.setrecursionlimit(100000)
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in calls[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            print("FAIL files that call each other in a circle: " + ", ".join(sorted(comp)))
            global fail
            fail = 1
for v in sorted(folder):
    if v not in index:
        visit(v)
if not fail:
    print(f"ok   {len(folder)} files in {len(order)} folders ({' > '.join(reversed(order))}): no call up, no circle")
sys.exit(fail)
PY

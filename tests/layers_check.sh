#!/bin/sh
# The folders of src/lib are layers: a folder may call the folders included
# before it in Makefile.am, never one included after it, and no two files of
# libdsr call each other in a circle; nor do two files of one program (dsrd's
# HTTP side and workers, dsrctl) or of the sample platform. Read from the symbols of the built
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
def read_object(o, f, defs, undef):
    """Records the symbols object @o defines (into defs, as file @f) and uses (undef[f])."""
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBRC":
            defs[p[2]] = f
        elif len(p) == 2 and p[0] == "U":
            undef[f].add(p[1])
defs, undef, folder = {}, collections.defaultdict(set), {}
for d in order:
    objs = glob.glob(os.path.join(build, "src/lib", d, "*.o"))
    if not objs:
        print(f"FAIL src/lib/{d}: no object files under {build}")
        sys.exit(1)
    for o in objs:
        f = f"{d}/{os.path.basename(o)[:-2]}"
        folder[f] = d
        read_object(o, f, defs, undef)
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
def circles(nodes, calls):
    index, low, stack, on, n, found = {}, {}, [], set(), [0], []
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
                found.append(sorted(comp))
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found
for comp in circles(folder, calls):
    print("FAIL files that call each other in a circle: " + ", ".join(comp))
    fail = 1
# The programs' folders: their own objects only (automake names an object
# built for another target, such as the unit tests, "target-file.o").
programs = 0
for d in ("src/httpd", "src/worker", "src/ctl", "sample"):
    pdefs, pundef = {}, collections.defaultdict(set)
    for o in glob.glob(os.path.join(build, d, "*.o")):
        base = os.path.basename(o)[:-2]
        if "-" not in base:
            pundef.setdefault(f"{d}/{base}", set())
            read_object(o, f"{d}/{base}", pdefs, pundef)
    if not pundef:
        print(f"FAIL {d}: no object files under {build}")
        fail = 1
        continue
    programs += len(pundef)
    pcalls = collections.defaultdict(set)
    for f, names in pundef.items():
        pcalls[f] = {pdefs[x] for x in names if x in pdefs and pdefs[x] != f}
    for comp in circles(pundef, pcalls):
        print("FAIL files that call each other in a circle: " + ", ".join(comp))
        fail = 1
if not fail:
    print(f"ok   {len(folder)} files in {len(order)} folders ({' > '.join(reversed(order))}): no call up, no circle")
    print(f"ok   {programs} files of src/httpd, src/worker, src/ctl and sample: no circle")
sys.exit(fail)
PY

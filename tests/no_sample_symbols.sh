#!/bin/sh
# dsrd and libdsr never depend on the sample platform: neither defines nor
# references a dsr_sample_ symbol. dsrctl, which links libdsrsample, must show
# some, or nm is not reading what we think it reads.
set -u
build=${DSR_TOP_BUILDDIR:-.}
fail=0
count() { nm "$1" 2>/dev/null | grep -c ' [A-Za-z] dsr_sample_'; }
for f in "$build/dsrd" "$build/.libs/libdsr.a"; do
  if [ ! -f "$f" ]; then
    echo "FAIL $f: not built"; fail=1; continue
  fi
  n=$(count "$f")
  if [ "$n" -ne 0 ]; then
    echo "FAIL $f: $n dsr_sample_ symbol(s):"
    nm "$f" | grep ' [A-Za-z] dsr_sample_' | head -5
    fail=1
  else
    echo "ok   $f: no dsr_sample_ symbol"
  fi
done
n=$(count "$build/dsrctl")
if [ "$n" -eq 0 ]; then
  echo "FAIL $build/dsrctl: no dsr_sample_ symbol, so nm shows nothing here"; fail=1
else
  echo "ok   $build/dsrctl: $n dsr_sample_ symbols (it links the sample platform)"
fi
exit $fail

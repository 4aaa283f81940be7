#!/bin/sh
# Every man page renders without a groff warning.
set -u
top=${DSR_TOP_SRCDIR:-$(dirname "$0")/..}
fail=0
for page in "$top"/man/*.[0-9]; do
  out=$(groff -ww -z -man "$page" 2>&1)
  if [ -n "$out" ]; then
    echo "FAIL $page: $out"
    fail=1
  else
    echo "ok   $page"
  fi
done
exit $fail

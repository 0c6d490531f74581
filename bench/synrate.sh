#!/bin/sh
# bench/synrate.sh: the SYN rate one ILB takes while 1,000 established
# keep-alive connections keep working (issue 7).  Runs
# tests/netns/test_synflood.sh (root; its topology, its checks) with a
# sweep of offered rates for its one-ILB flood: the rogue namespace sends
# spoofed SYNs straight at ilb1 for RATE_S (5) s at each rate of
# RATE_STEPS (pps; 0 = as fast as tests/netns/synflood sends), and the
# test prints one "# synrate:" line per step: the SYNs ilb1 took (its
# syn counter) per second, next to what was sent.  Where taken falls
# below sent, ilb1 no longer keeps up (the rest is dropped in its TUN
# queue); the last step gives its saturated rate.  Reported, never
# asserted; the test's own checks (every connection lived, every request
# answered) say whether the connections kept working throughout.
#
# Knobs: RATE_STEPS, RATE_S, and those of the test (KA_C, LTOC_SIZE,
# SYN_TIMEOUT, FLOOD_RATE, ...).  Needs the built tree (make, then
# make tests/netns/synflood).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
RATE_STEPS=${RATE_STEPS:-10000 20000 40000 80000 0}
RATE_S=${RATE_S:-5}
export top_srcdir top_builddir RATE_STEPS RATE_S
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
sh "$top_srcdir/tests/netns/test_synflood.sh" > "${TMPDIR:-/tmp}/synrate.$$.out" 2>&1
rc=$?
grep -e '^# synrate:' -e '^# flood 2:' -e '^# keepalive:' -e '^not ok' \
    -e 'passed,' "${TMPDIR:-/tmp}/synrate.$$.out"
rm -f "${TMPDIR:-/tmp}/synrate.$$.out"
exit "$rc"

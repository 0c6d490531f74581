#!/bin/sh
# bench/ab_fwd.sh: two ilbd builds, A and B, through the daemon's real
# input path, in interleaved rounds (root).
#
#   bench/ab_fwd.sh /path/to/A/src/ilbd /path/to/B/src/ilbd
#
# Each round runs bench/e2e.sh's forwarding measurement (PHASES=fwd: one
# ilbd, a cluster of one, fed 40-byte TCP by bench/blast through its TUN
# device, against bench/fwd_bare, the same I/O with no logic) once with A
# and once with B, alternating which goes first; every forwarder is held
# to FWD_CPU % of a CPU (default 30) so that it, not the sender, is the
# limit. Prints each run's figures, then the medians: the peak
# delivered rate (packets/s) and the forwarder's CPU per delivered packet
# (ns) at the highest rate both forwarders still kept up with, for ilbd
# and for fwd_bare (the same binary in every run: how noisy the machine
# was). Reported, never asserted. Knobs: ROUNDS (3), FWD_CPU (30), and
# every knob of bench/e2e.sh.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
[ $# -eq 2 ] || { echo "usage: $0 ilbd-A ilbd-B" >&2; exit 2; }
A=$1 B=$2
ROUNDS=${ROUNDS:-3}
FWD_CPU=${FWD_CPU:-30}
OUT=$(mktemp -d /tmp/ab_fwd.XXXXXX)
export FWD_CPU

# run NAME BINARY ROUND: one e2e.sh forwarding run; its figures as
# "NAME ilbd_peak ilbd_ns bare_peak bare_ns" in $OUT/rows
run() {
	_log=$OUT/$1.$3.log
	PHASES=fwd ILBD=$2 sh "$top_srcdir/bench/e2e.sh" > "$_log" 2>&1
	_ip=$(sed -n 's/^  ilbd  *peak  *\([0-9]*\) pps.*/\1/p' "$_log")
	_in=$(sed -n 's/^  ilbd  *peak.*CPU \([0-9]*\) ns\/packet.*/\1/p' "$_log")
	_bp=$(sed -n 's/^  fwd_bare  *peak  *\([0-9]*\) pps.*/\1/p' "$_log")
	_bn=$(sed -n 's/^  fwd_bare  *peak.*CPU \([0-9]*\) ns\/packet.*/\1/p' "$_log")
	if [ -z "$_ip" ] || [ -z "$_in" ]; then
		echo "$1 round $3: no figures (see $_log)"; return 1
	fi
	echo "$1 $_ip $_in ${_bp:-0} ${_bn:-0}" >> "$OUT/rows"
	echo "$1 round $3: ilbd peak $_ip pps, $_in ns/packet; fwd_bare peak ${_bp:-?} pps, ${_bn:-?} ns/packet ($(cut -d' ' -f1 /proc/loadavg) load)"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/rows" | median; }
spread() { awk -v n="$1" -v c="$2" '$1 == n { if (min == "" || $c < min) min = $c; if ($c > max) max = $c } END { printf "%s-%s", min, max }' "$OUT/rows"; }

echo "bench/ab_fwd.sh $(date -u +%Y-%m-%dT%H:%M:%SZ): A=$A B=$B, $ROUNDS rounds, FWD_CPU=$FWD_CPU, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); logs in $OUT"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then run A "$A" "$r"; run B "$B" "$r"
	else run B "$B" "$r"; run A "$A" "$r"; fi
	r=$((r + 1))
done
[ -s "$OUT/rows" ] || exit 1
# per run: the ilbd peak over the fwd_bare peak of the same run (the
# machine's load hits both), and the CPU per packet at the peak, where
# the forwarder uses all of its quota: FWD_CPU % of a second / peak
awk -v q="$FWD_CPU" '{ print $0, ($4 > 0 ? $2 / $4 : 0), q * 1e7 / $2 }' \
    "$OUT/rows" > "$OUT/rows2" && mv "$OUT/rows2" "$OUT/rows"
echo "medians of $ROUNDS rounds (range in brackets):"
for n in A B; do
	printf '  %s  ilbd peak %s pps [%s] = %s of fwd_bare [%s], so %.0f ns of CPU per packet at the peak; %s ns/packet at the highest rate both kept up with [%s]; fwd_bare peak %s pps [%s]\n' \
	    "$n" "$(col $n 2)" "$(spread $n 2)" "$(col $n 6)" "$(spread $n 6)" \
	    "$(col $n 7)" "$(col $n 3)" "$(spread $n 3)" "$(col $n 4)" \
	    "$(spread $n 4)"
done

#!/bin/sh
# test_hardening.sh [UNIT]: the installed ilbd (/usr/sbin/ilbd, package
# installed: user ilbd exists) runs under the restrictions of its systemd
# unit (default /lib/systemd/system/ilbd.service), as far as they can be
# reproduced without systemd (PID 1 here is not systemd):
#  * User=ilbd, AmbientCapabilities= and CapabilityBoundingSet= CAP_NET_ADMIN
#    CAP_NET_RAW, NoNewPrivileges=, SecureBits=noroot-locked: setpriv(1),
#    then checked in /proc;
#  * ProtectSystem=strict with the RuntimeDirectory= and StateDirectory=
#    as the only writable places, ProtectHome=: a private mount namespace
#    where every mount is read-only but those two (here under $TMP), and
#    /home and /root are empty;
#  * SystemCallFilter=, RestrictAddressFamilies=, DeviceAllow= (with
#    DevicePolicy=closed), MemoryDenyWriteExecute=, ProcSubset= and
#    ProtectKernelTunables=: not enforced here;
#    every system call ilbd makes is traced (strace) and checked against
#    what systemd would allow (check_trace.py, from the unit's own lines).
# ilbd starts, answers ilbctl, reloads, is scraped, logs its counters and
# leaves on TERM with exit 0; nothing it did is outside the unit's sets.
# Not reproduced: PrivateTmp=, PrivateMounts=, ProtectKernelModules=,
# ProtectKernelLogs=, ProtectClock=, ProtectControlGroups=, ProtectProc=,
# ProtectHostname=, RestrictNamespaces=, RestrictRealtime=,
# RestrictSUIDSGID=, LockPersonality=, KeyringMode=, RemoveIPC= (the
# seccomp-based ones concern system calls that the trace check covers).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
UNIT=${1:-/lib/systemd/system/ilbd.service}
if [ "$(id -u)" -ne 0 ]; then
	echo "test_hardening.sh: needs root (namespaces, setpriv)" >&2
	exit 99
fi
for t in strace setpriv unshare nsenter findmnt python3 curl; do
	command -v "$t" > /dev/null ||
	    { echo "test_hardening.sh: $t is missing (tools/deps --deb)" >&2; exit 99; }
done
if [ ! -x /usr/sbin/ilbd ] || ! getent passwd ilbd > /dev/null; then
	echo "test_hardening.sh: install the ilbd package first" >&2
	exit 99
fi
TMP=$(mktemp -d /tmp/ilbd-hard.XXXXXX)
NS=ilbt$$-h
runner=
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
wait_for() {	# FILE PATTERN SECONDS
	i=0
	while [ "$i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
cleanup() {
	[ -n "$runner" ] && kill -KILL "$runner" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The unit's identity and capabilities are what setpriv reproduces.
check "the unit runs ilbd as user ilbd" grep -qx "User=ilbd" "$UNIT"
check "the unit gives CAP_NET_ADMIN CAP_NET_RAW, ambient" \
    grep -qx "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW" "$UNIT"
check "the unit bounds the capabilities to them" \
    grep -qx "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" "$UNIT"
check "the unit is ProtectSystem=strict" grep -qx "ProtectSystem=strict" "$UNIT"

ip netns add "$NS"
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 192.0.2.11/24 dev eth0
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# $TMP/rw plays /run/ilbd (RuntimeDirectory=) and /var/lib/ilbd
# (StateDirectory=): owned by ilbd, the only writable places.
RW=$TMP/rw
mkdir -p "$RW/run" "$RW/state"
chown ilbd:ilbd "$RW/run" "$RW/state"
chmod 755 "$TMP" "$RW"
# The runner: a private mount namespace set up as the unit's file system
# switches would, then ilbd as the unit's user, in the network namespace.
cat > "$TMP/runner.sh" <<EOS
set -e
mount --make-rprivate /
mount --bind "$RW" "$RW"
# ProtectSystem=strict: everything read-only but /dev, /proc, /sys (and
# the writable directories).
findmnt -rn -o TARGET | sort -u | while read -r m; do
	case "\$m" in /dev|/dev/*|/proc|/proc/*|/sys|/sys/*|$RW) continue;; esac
	mount -o remount,bind,ro "\$m" 2>/dev/null || true
done
mount -o remount,bind,rw "$RW"
# /dev/net/tun as udev makes it on Debian (50-udev-default.rules: mode
# 0666): containers such as CI's may have it 0600 root, which user ilbd
# cannot open. Only this namespace sees the new node.
if [ "\$(stat -c %a /dev/net/tun)" != 666 ]; then
	mount -t tmpfs -o mode=0755 none /dev/net
	mknod -m 0666 /dev/net/tun c 10 200
fi
# ProtectHome=yes
for h in /home /root; do [ -d "\$h" ] && mount -t tmpfs -o ro,mode=0755 none "\$h"; done
if touch /var/lib/.ilbd-ro-probe 2>/dev/null || touch /etc/.ilbd-ro-probe 2>/dev/null; then
	echo "runner: the file system is not read-only" >&2
	exit 3
fi
touch "$RW/.rw-probe"
exec nsenter --net=/run/netns/$NS strace -f -qq -s 200 -o "$RW/trace" \
    setpriv --reuid=ilbd --regid=ilbd --init-groups \
    --inh-caps=-all,+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw \
    --bounding-set=-all,+net_admin,+net_raw --no-new-privs \
    --securebits=+noroot,+noroot_locked \
    /usr/sbin/ilbd -f -c "$TMP/ilbd.conf"
EOS

# run_mode MODE: ilbd with input.mode MODE ("tun" or "pcap") under the
# restrictions, exercised, stopped; its trace checked.
run_mode() {
	m=$1
	f0=$fail
	sed -e "s|^\([[:space:]]*socket[[:space:]]*=\).*|\1 \"$RW/run/ilbd.sock\";|" \
	    -e "s|^\([[:space:]]*state_dir[[:space:]]*=\).*|\1 \"$RW/state\";|" \
	    -e "s|^\([[:space:]]*mode[[:space:]]*=\).*|\1 \"$m\";|" \
	    /etc/ilbd.conf > "$TMP/ilbd.conf"
	chmod 644 "$TMP/ilbd.conf"
	rm -f "$RW/trace" "$RW/.rw-probe"
	unshare -m --propagation private sh "$TMP/runner.sh" > "$TMP/log" 2>&1 &
	runner=$!
	check "$m: ilbd started under the restrictions" wait_for "$TMP/log" "started (pid" 60
	pid=$(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$TMP/log" | head -1)
	check "$m: the writable directory was writable, the rest not" test -e "$RW/.rw-probe"
	st=/proc/${pid:-0}/status
	check "$m: runs as user ilbd" sh -c "grep -q \"^Uid:[[:space:]]*$(id -u ilbd)[[:space:]]\" $st"
	check "$m: effective capabilities: CAP_NET_ADMIN CAP_NET_RAW only" \
	    grep -q "^CapEff:[[:space:]]*0000000000003000" "$st"
	check "$m: bounding set: the same two" grep -q "^CapBnd:[[:space:]]*0000000000003000" "$st"
	check "$m: no new privileges" grep -q "^NoNewPrivs:[[:space:]]*1" "$st"
	if [ "$m" = tun ]; then
		check "$m: TUN device up (/dev/net/tun)" sh -c "ip -n $NS link show ilb0 up | grep -q ilb0"
	else
		check "$m: capturing on eth0" grep -q "capture on eth0" "$TMP/log"
	fi
	check "$m: control socket in the runtime directory" test -S "$RW/run/ilbd.sock"
	for c in "show members" "show services" "show stats" "reload"; do
		check "$m: ilbctl $c" sh -c "/usr/sbin/ilbctl -s '$RW/run/ilbd.sock' $c > /dev/null"
	done
	check "$m: the boot epoch is in the state directory" test -s "$RW/state/epoch"
	check "$m: metrics scrape" \
	    sh -c "ip netns exec $NS curl -sf http://127.0.0.1:9650/metrics | grep -q '^ilbd_'"
	kill -USR1 "${pid:-0}"
	check "$m: SIGUSR1 logs the counters" wait_for "$TMP/log" "^stats: rx=" 30
	sleep 3		# health checks and the status timer run a few times
	kill -TERM "${pid:-0}"
	i=0
	while kill -0 "$runner" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$runner"; rc=$?
	runner=
	check "$m: TERM: leaves and exits 0" [ "$rc" -eq 0 ]
	check "$m: stop logged" grep -q "ilbd stopped" "$TMP/log"
	check "$m: no error in the log (permissions, read-only, EPERM)" \
	    sh -c "! grep -qi 'denied\|read-only\|not permitted\|cannot' '$TMP/log'"
	python3 "$HERE/check_trace.py" "$UNIT" "$RW/trace" > "$TMP/trace.out" 2>&1; rc=$?
	sed "s/^/  $m: /" "$TMP/trace.out"
	check "$m: every system call, address family, device and mapping is allowed by the unit" \
	    [ "$rc" -eq 0 ]
	[ "$fail" -eq "$f0" ] || sed "s/^/$m log: /" "$TMP/log"
}

run_mode tun
run_mode pcap	# libpcap's system calls, and no TUN device
echo "test_hardening.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

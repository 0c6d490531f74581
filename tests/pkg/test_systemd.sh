#!/bin/sh
# test_systemd.sh DEB: the package under a real systemd. The CI host's PID 1
# is not systemd, so the test boots one: a systemd-nspawn container from a
# Debian minbase of the host's release (systemd, dbus, iproute2), with the
# package installed in it. Checks (debian/README.Debian, "systemd"):
#  - Type=notify: "systemctl start" returns with the unit running and the
#    STATUS text the daemon sent (state, members);
#  - RuntimeDirectory=: the control socket is /run/ilbd/ilbd.sock;
#  - ExecReload=ilbctl reload: "systemctl reload" succeeds with a good
#    configuration and fails with a broken one, the unit staying active;
#  - journald priorities: the failed reload (with file:line) is in
#    "journalctl -p warning", the start line is logged at info;
#  - "systemctl stop" is a graceful leave;
#  - input.mode "xdp": refused by the shipped unit with a clear error, and
#    working with the package's drop-in (examples/xdp.conf): the program
#    on eth0, a SYN through AF_XDP, root given up; back to tun without it;
#  - "systemd-analyze security ilbd.service" rates the unit at most 2.5.
# Needs root, debootstrap, systemd-container (systemd-nspawn) and the
# network (debootstrap, the package's dependencies). The base rootfs is
# cached for the day in /tmp (ILBD_MIRROR overrides the host's apt mirror).
# Bounded: 10-20 s with the cache, 1.5-3 min without (debootstrap, on a
# tmpfs); the steps stop at 265 s (END), the teardown takes < 25 s.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "test_systemd.sh: needs root (debootstrap, systemd-nspawn)" >&2
	exit 99
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: test_systemd.sh ilbd_VERSION_ARCH.deb" >&2
	exit 99
fi
for c in debootstrap systemd-nspawn nsenter; do
	command -v "$c" > /dev/null || {
		echo "test_systemd.sh: $c missing (apt-get install debootstrap" \
		    "systemd-container)" >&2
		exit 99
	}
done
DEB=$(readlink -f "$1")
t0=$(date +%s)
END=$((t0 + 265))	# the steps end by then; the teardown takes < 25 s
# The host's release: the package links against the host's libraries.
# shellcheck disable=SC1091
SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
BASE=/tmp/ilbd-systemd-$SUITE-$(date +%Y%m%d).tar
ROOT=$(mktemp -d /tmp/ilbd-systemd.XXXXXX)
LOG=$ROOT.log
# The rootfs in memory: dpkg's many fsyncs made debootstrap on disk take
# four minutes on a busy CI machine.
mount -t tmpfs -o size=1g,mode=0755 ilbd-systemd "$ROOT" || {
	rmdir "$ROOT"
	echo "test_systemd.sh: cannot mount a tmpfs on $ROOT" >&2
	exit 99
}
nspawn=
leader=
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
fails() { ! "$@"; }
has() { printf '%s\n' "$1" | grep -q "$2"; }	# TEXT REGEX
# ilbd's journal lines of priorities PRIO (journalctl -p) match REGEX, within
# 10 s: journald reads the daemon's stderr asynchronously.
journal_has() {	# PRIO REGEX
	i=0
	while [ $i -lt 100 ] && in_time; do
		inside journalctl -u ilbd -p "$1" --no-pager -o cat |
		    grep -q "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# The time bound: each wait stops at END, each step checks it.
in_time() { [ "$(date +%s)" -lt "$END" ]; }
step() {
	in_time || bail "the time budget ($((END - t0)) s) is spent"
	echo "# $*"
}
budget() {	# seconds a command may take: at most $1, not past END
	r=$((END - $(date +%s)))
	[ $r -lt "$1" ] || r=$1
	[ "$r" -gt 0 ] || r=1
	echo "$r"
}
# A command in the container (all its namespaces, as its root).
inside() { timeout "$(budget 60)" nsenter -t "$leader" -a "$@"; }
bail() {	# a step the rest depends on failed
	not_ok "$*"
	echo "Bail out! $*"
	exit 1
}
cleanup() {
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		# nspawn asks the container's systemd to power off on TERM.
		kill -TERM "$nspawn" 2>/dev/null
		i=0
		while kill -0 "$nspawn" 2>/dev/null && [ $i -lt 200 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -KILL "$nspawn" 2>/dev/null; then
			# Its PID 1 too, the whole PID namespace with it.
			[ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
		fi
		wait "$nspawn" 2>/dev/null
	fi
	umount "$ROOT" && rmdir "$ROOT"
	rm -f "$LOG" "$BASE.$$"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The host's apt mirror for the suite (as ../shared/tools/fresh-check).
mirror() {
	[ -n "${ILBD_MIRROR:-}" ] && { echo "$ILBD_MIRROR"; return; }
	# shellcheck disable=SC2016 # apt expands $(...)
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	    'Identifier: Packages' 2>/dev/null |
	    awk -v s="$SUITE" '$2 == s && $3 == "main" { print $1; exit }'
}

# 1. The base rootfs, built once a day (older ones removed).
if [ -f "$BASE" ]; then
	tar -C "$ROOT" --numeric-owner -xpf "$BASE" || bail "unpack $BASE"
	ok "base rootfs from $BASE"
else
	m=$(mirror)
	[ -n "$m" ] || bail "no apt source for $SUITE main (set ILBD_MIRROR)"
	rm -f /tmp/ilbd-systemd-*.tar
	if timeout "$(budget 240)" debootstrap --variant=minbase \
	    --include=systemd,systemd-sysv,dbus,iproute2 "$SUITE" "$ROOT" "$m" \
	    > "$LOG" 2>&1; then
		ok "debootstrap $SUITE from $m ($(($(date +%s) - t0)) s)"
	else
		tail -20 "$LOG"
		bail "debootstrap $SUITE from $m"
	fi
	tar -C "$ROOT" --numeric-owner -cf "$BASE.$$" . &&
	    mv "$BASE.$$" "$BASE"
fi

# The container's /, for services that run as other users (dbus, ilbd).
chmod 0755 "$ROOT"

# 2. The package, installed with the host's network: no systemd runs in
# the chroot, so the maintainer scripts neither enable nor start ilbd. The
# apt lists debootstrap left are used first (no download of new ones).
step "install the package"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/root/ilbd.deb"
if timeout "$(budget 120)" chroot "$ROOT" sh -c '
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q /root/ilbd.deb ||
    { apt-get update -q && apt-get install -y -q /root/ilbd.deb; }' \
    > "$LOG" 2>&1; then
	ok "apt-get install the package in the rootfs"
else
	tail -20 "$LOG"
	bail "apt-get install the package in the rootfs"
fi
CONF=$ROOT/etc/ilbd.conf
# The shipped example: node 192.0.2.11 on eth0, made up below.
grep -q '192\.0\.2\.11' "$CONF" ||
    bail "the shipped /etc/ilbd.conf has node 192.0.2.11"

# 3. Boot. nspawn's child in the new PID namespace becomes the container's
# systemd (comm "systemd" once it has exec'd, PID 1 in its namespace).
step "boot"
# Input mode xdp (step 7) needs more than nspawn gives a container: its
# seccomp filter refuses bpf(2) (--system-call-filter=bpf allows it back),
# and its capabilities lack CAP_IPC_LOCK, which the drop-in uses for the
# sockets' memory (CAP_SYS_ADMIN, which loads the program, is there). The
# unit's own limits are what the steps check, not these.
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q --register=no \
    --keep-unit --private-network --system-call-filter=bpf \
    --capability=CAP_IPC_LOCK -b -D "$ROOT" < /dev/null > "$LOG" 2>&1 &
nspawn=$!
is_init() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = systemd ] &&
	    awk '$1 == "NSpid:" { exit !($NF == 1 && NF >= 3) }' \
	    "/proc/$1/status" 2>/dev/null
}
i=0
while [ -z "$leader" ] && [ $i -lt 300 ] && kill -0 "$nspawn" 2>/dev/null &&
    in_time; do
	for c in $(pgrep -P "$nspawn"); do
		is_init "$c" && leader=$c
	done
	[ -n "$leader" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$leader" ] || { cat "$LOG"; bail "the container's systemd started"; }
ok "the container's systemd started (host pid $leader)"
# Until the manager answers (systemctl says "offline" before its socket
# exists), then until the boot is done: "running", or "degraded" (failed
# units listed).
i=0
state=offline
while [ "$state" = offline ] && [ $i -lt 300 ] && in_time; do
	state=$(timeout "$(budget 5)" nsenter -t "$leader" -a \
	    systemctl is-system-running 2>/dev/null)
	[ -n "$state" ] || state=offline
	[ "$state" = offline ] && sleep 0.1
	i=$((i + 1))
done
[ "$state" = offline ] ||
    state=$(timeout "$(budget 120)" nsenter -t "$leader" -a \
    systemctl is-system-running --wait)
case $state in
running) ok "boot finished: running" ;;
degraded)
	inside systemctl --failed --no-pager --no-legend | sed 's/^/# failed: /'
	ok "boot finished: degraded (failed units above)" ;;
*)	inside systemctl list-jobs --no-pager | sed 's/^/# /'
	bail "boot finished: ${state:-not in 120 s}" ;;
esac
check "PID 1 in the container is systemd" \
    [ "$(inside cat /proc/1/comm)" = systemd ]

# What a Debian host gives ilbd: eth0 with the node address, forwarding
# on, /dev/net/tun mode 0666 (udev's rule; nspawn makes it 0600, no udev).
inside sh -c 'ip link add eth0 type veth peer name eth0p &&
    ip addr add 192.0.2.11/24 dev eth0 && ip link set eth0p up &&
    ip link set eth0 up && echo 1 > /proc/sys/net/ipv4/ip_forward &&
    echo 1 > /proc/sys/net/ipv6/conf/all/forwarding &&
    chmod 0666 /dev/net/tun' || bail "eth0, forwarding, /dev/net/tun"

# 4. Start: Type=notify, so start returns once ilbd sent READY=1.
step "start"
if inside systemctl start ilbd; then
	ok "systemctl start ilbd"
else
	inside journalctl -u ilbd --no-pager -o cat | tail -20
	bail "systemctl start ilbd"
fi
show=$(inside systemctl show ilbd \
    -p Type,ActiveState,SubState,StatusText,MainPID)
echo "$show" | sed 's/^/# /'
check "Type=notify" has "$show" '^Type=notify$'
check "active when start returns" has "$show" '^ActiveState=active$'
check "running when start returns" has "$show" '^SubState=running$'
check "STATUS text from the daemon (state, members)" \
    has "$show" '^StatusText=.*members'
check "the control socket is /run/ilbd/ilbd.sock" \
    inside test -S /run/ilbd/ilbd.sock
pid=$(echo "$show" | sed -n 's/^MainPID=//p')

# 5. Reload through ilbctl, good and broken.
step "reload"
check "systemctl reload, good configuration: succeeds" \
    inside systemctl reload ilbd
cp "$CONF" "$ROOT/root/good.conf"
echo 'broken {' >> "$CONF"
check "systemctl reload, broken configuration: fails" \
    fails inside systemctl reload ilbd
after=$(inside systemctl show -p ActiveState,MainPID ilbd)
check "still active after the failed reload" has "$after" '^ActiveState=active$'
check "same main pid after the failed reload" has "$after" "^MainPID=$pid\$"
# (ilbd's warnings are LOG_ERR, as OpenBSD's log_warnx.)
check "journal, priority warning or higher: the failed reload, with file:line" \
    journal_has warning 'keeping the running configuration.*ilbd\.conf:[0-9]'
check "journal, priority info: the start line" \
    journal_has info..info 'started (pid'
cp "$ROOT/root/good.conf" "$CONF"
check "systemctl reload after the repair: succeeds" \
    inside systemctl reload ilbd

# 6. Stop: SIGTERM, a graceful leave (STOPPING), then exit.
step "stop"
check "systemctl stop ilbd" inside systemctl stop ilbd
check "inactive after stop" \
    [ "$(inside systemctl show -p ActiveState --value ilbd)" = inactive ]
check "journal: the graceful leave" journal_has info 'leaving the cluster'

# 7. Input mode xdp (README.Debian, "Input mode xdp"): the shipped unit
# refuses it with a clear error; with the package's drop-in installed it
# runs, a SYN from a neighbour reaches ilbd through the AF_XDP socket, and
# ilbd still gives up root; without the drop-in again, tun mode as before.
step "input mode xdp"
DROPIN=$ROOT/etc/systemd/system/ilbd.service.d/xdp.conf
sed -i 's/^\( *mode = \)"tun";/\1"xdp";/' "$CONF"
check "ilbd -n accepts input.mode xdp" \
    inside sh -c "ilbd -n -c /etc/ilbd.conf > /dev/null"
check "without the drop-in: systemctl start ilbd fails" \
    fails inside systemctl start ilbd
check "without the drop-in: the journal says why" journal_has err \
    'xdp on eth0: attach the XDP program: Operation not permitted'
inside systemctl reset-failed ilbd
check "the package ships the drop-in" \
    [ -f "$ROOT/usr/share/doc/ilbd/examples/xdp.conf" ]
mkdir -p "${DROPIN%/*}"
cp "$ROOT/usr/share/doc/ilbd/examples/xdp.conf" "$DROPIN"
check "systemd-analyze verify with the drop-in" \
    inside systemd-analyze verify --man=no ilbd.service
inside systemctl daemon-reload
if inside systemctl restart ilbd; then
	ok "with the drop-in: systemctl restart ilbd"
	check "with the drop-in: active" \
	    [ "$(inside systemctl show -p ActiveState --value ilbd)" = active ]
	check "eth0 runs the XDP program ilbd_xdp" \
	    has "$(inside ip link show dev eth0)" 'prog/xdp .*name ilbd_xdp'
	check "journal: the XDP program attached, AF_XDP input" \
	    journal_has info 'eth0: AF_XDP input on [0-9]* queue'
	check "journal: root given up after the set-up" journal_has info \
	    'running as user ilbd with CAP_NET_ADMIN and CAP_NET_RAW only'
	# A neighbour (eth0p in its own namespace) opens a connection to
	# the VIP: its SYNs come in through the AF_XDP socket (input_packets,
	# syn; no server answers the health checks, so no_server).
	inside sh -c 'ip netns add xdppeer &&
	    ip link set eth0p netns xdppeer &&
	    ip -n xdppeer addr add 192.0.2.99/24 dev eth0p &&
	    ip -n xdppeer link set eth0p up &&
	    ip -n xdppeer route add 198.51.100.10 via 192.0.2.11' ||
	    not_ok "a neighbour namespace on eth0p"
	inside ip netns exec xdppeer timeout 3 \
	    bash -c 'echo > /dev/tcp/198.51.100.10/80' 2>/dev/null
	stats=$(inside ilbctl show stats)
	echo "$stats" | grep -E '^(input_packets|xdp_[a-z]*|syn) ' | sed 's/^/# /'
	check "ilbctl show stats: the SYNs came in through AF_XDP" \
	    has "$stats" '^input_packets [1-9]'
	check "ilbctl show stats: the SYNs reached the balancer" \
	    has "$stats" '^syn [1-9]'
	check "systemctl stop ilbd (xdp)" inside systemctl stop ilbd
	check "the XDP program is removed at stop" \
	    fails has "$(inside ip link show dev eth0)" 'prog/xdp'
else
	not_ok "with the drop-in: systemctl restart ilbd"
	inside journalctl -u ilbd --no-pager -o cat | tail -20
fi
# Back: no drop-in, the previous file, user ilbd from the start.
rm -f "$DROPIN"
cp "$ROOT/root/good.conf" "$CONF"
inside systemctl daemon-reload
inside systemctl reset-failed ilbd 2>/dev/null
check "without the drop-in, tun mode: systemctl restart ilbd" \
    inside systemctl restart ilbd
back=$(inside systemctl show -p ActiveState,User ilbd)
check "tun mode again: active" has "$back" '^ActiveState=active$'
check "tun mode again: User=ilbd" has "$back" '^User=ilbd$'
check "systemctl stop ilbd (tun)" inside systemctl stop ilbd

# 8. The unit's exposure, as systemd 252 rates it.
step "exposure"
exposure=$(inside systemd-analyze security ilbd.service |
    sed -n 's/.*Overall exposure level for ilbd.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: ${exposure:-none} (at most 2.5)" \
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.5) }'

echo "test_systemd.sh: $pass passed, $fail failed, $(($(date +%s) - t0)) s"
[ "$fail" -eq 0 ]

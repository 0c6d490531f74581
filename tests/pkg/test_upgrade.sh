#!/bin/sh
# test_upgrade.sh DEB: the package's install, upgrade and removal never
# leave a running ilbd stopped by surprise (debian/README.Debian).
#
# DEB is a built ilbd .deb (version V1); a second version V2 is made from
# it by repacking with a higher version (the same files and scripts: what
# is tested is what dpkg and the maintainer scripts do). As root, with ilbd
# not installed:
#  1. install V1, start /usr/sbin/ilbd -f by hand in a network namespace;
#  2. upgrade to V2 with apt-get: the same process still runs (its binary
#     now shows as deleted: the old one), answers ilbctl, and V2 is
#     installed;
#  3. what the maintainer scripts ask of systemd, with a stand-in for
#     systemd in a private mount namespace (/run/systemd/system present,
#     systemctl and deb-systemd-invoke recording their arguments): an
#     upgrade (the new package's preinst and postinst, the old one's prerm
#     and postrm) asks for no stop, restart or start; a removal asks to
#     stop ilbd.service;
#  4. stop the daemon (TERM: graceful leave), remove (the scripts do not
#     fail without systemd, the conffile stays), purge (the key goes).
# PID 1 here is not systemd, so the real "systemctl stop" of step 3 cannot
# run: the test checks that it is asked for, not that systemd does it.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "test_upgrade.sh: needs root (dpkg, network namespace)" >&2
	exit 99
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: test_upgrade.sh ilbd_VERSION_ARCH.deb" >&2
	exit 99
fi
if dpkg-query -W -f '${Status}' ilbd 2>/dev/null | grep -q installed; then
	echo "test_upgrade.sh: ilbd is installed: purge it first" >&2
	exit 99
fi
DEB=$(readlink -f "$1")
TMP=$(mktemp -d /tmp/ilbd-pkg.XXXXXX)
NS=ilbt$$-p
pid=
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
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL
	ip netns del "$NS" 2>/dev/null
	if dpkg-query -W -f '${Status}' ilbd 2>/dev/null | grep -q installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ilbd > /dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

# V2: the same package with a higher version.
V1=$(dpkg-deb -f "$DEB" Version)
V2="$V1+upgrade1"
dpkg-deb -R "$DEB" "$TMP/v2"
sed -i "s/^Version: .*/Version: $V2/" "$TMP/v2/DEBIAN/control"
dpkg-deb -b "$TMP/v2" "$TMP/ilbd_v2.deb" > /dev/null
check "V2 ($V2) built from V1 ($V1)" dpkg --compare-versions "$V2" gt "$V1"

# 1. V1, and ilbd started by hand.
apt-get install -y -q "$DEB" > "$TMP/apt1" 2>&1
check "V1 installs" sh -c "dpkg-query -W -f '\${Version}' ilbd | grep -qx '$V1'"
check "the key is 0640 root:ilbd (the one key rule)" \
    sh -c "[ \"\$(stat -c '%a %U %G' /etc/ilbd/cluster.key)\" = '640 root ilbd' ]"
ip netns add "$NS"
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 192.0.2.11/24 dev eth0
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# The shipped configuration and key; the control socket and the epoch in
# $TMP, so that nothing of the host's /run or /var/lib is touched.
sed -e "s|^\([[:space:]]*socket[[:space:]]*=\).*|\1 \"$TMP/run/ilbd.sock\";|" \
    -e "s|^\([[:space:]]*state_dir[[:space:]]*=\).*|\1 \"$TMP/state\";|" \
    /etc/ilbd.conf > "$TMP/ilbd.conf"
grep -q "state_dir" "$TMP/ilbd.conf" ||
    sed -i "s|^node = {|node = {\n  state_dir = \"$TMP/state\";|" "$TMP/ilbd.conf"
chmod 755 "$TMP"
chmod 644 "$TMP/ilbd.conf"
mkdir -m 755 "$TMP/state" && chown ilbd:ilbd "$TMP/state"
ip netns exec "$NS" /usr/sbin/ilbd -f -c "$TMP/ilbd.conf" > "$TMP/log" 2>&1 &
pid=$!
check "ilbd (V1) started by hand" wait_for "$TMP/log" "started (pid $pid)" 60
check "it answers ilbctl" sh -c "/usr/sbin/ilbctl -s '$TMP/run/ilbd.sock' show members > /dev/null"

# 2. The upgrade.
apt-get install -y -q "$TMP/ilbd_v2.deb" > "$TMP/apt2" 2>&1; rc=$?
check "apt-get install V2 over V1 succeeds" [ "$rc" -eq 0 ]
check "V2 is installed" sh -c "dpkg-query -W -f '\${Version}' ilbd | grep -qx '$V2'"
check "the same ilbd process still runs after the upgrade" kill -0 "$pid"
check "it runs the old binary (replaced on disk: deleted)" \
    sh -c "readlink /proc/$pid/exe | grep -q '(deleted)'"
check "it still answers ilbctl" sh -c "/usr/sbin/ilbctl -s '$TMP/run/ilbd.sock' show members > /dev/null"
check "it logged no stop" sh -c "! grep -q 'leaving the cluster\|ilbd stopped' '$TMP/log'"

# 3. What the maintainer scripts ask of systemd (a stand-in for it).
mkdir "$TMP/fake"
for c in systemctl deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >> %s/calls\n' "$c" "$TMP" > "$TMP/fake/$c"
	chmod 755 "$TMP/fake/$c"
done
# fake_systemd SCRIPT ARGS...: run the maintainer script SCRIPT as if
# systemd were PID 1; $TMP/calls gets what it asked for.
fake_systemd() {
	: > "$TMP/calls"
	mkdir -p /run/systemd
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	DPKG_MAINTSCRIPT_PACKAGE=ilbd \
	DPKG_MAINTSCRIPT_NAME=$(basename "$1" | sed 's/^ilbd\.//') \
	    unshare -m sh -c 'mount -t tmpfs none /run/systemd &&
	    mkdir /run/systemd/system &&
	    PATH="$0/fake:$PATH" exec "$@"' "$TMP" "$@"
}
dpkg-deb -e "$TMP/ilbd_v2.deb" "$TMP/v2ctl"
if [ -f "$TMP/v2ctl/preinst" ]; then
	fake_systemd "$TMP/v2ctl/preinst" upgrade "$V1"; rc=$?
	check "systemd: preinst upgrade succeeds" [ "$rc" -eq 0 ]
	check "systemd: preinst upgrade asks for no stop" \
	    sh -c "! grep -q 'stop\|restart' '$TMP/calls'"
else
	ok "systemd: the package has no preinst (nothing stops before the upgrade)"
fi
I=/var/lib/dpkg/info/ilbd
fake_systemd "$I.prerm" upgrade "$V2"; rc=$?
check "systemd: prerm upgrade succeeds" [ "$rc" -eq 0 ]
check "systemd: prerm upgrade asks for no stop" \
    sh -c "! grep -q 'stop\|restart' '$TMP/calls'"
fake_systemd "$I.postinst" configure "$V1"; rc=$?
check "systemd: postinst configure (upgrade from V1) succeeds" [ "$rc" -eq 0 ]
check "systemd: postinst asks for no start, stop or restart" \
    sh -c "! grep -q 'start\|stop' '$TMP/calls'"
fake_systemd "$I.postrm" upgrade "$V2"; rc=$?
check "systemd: postrm upgrade succeeds" [ "$rc" -eq 0 ]
check "systemd: postrm upgrade asks for no stop" \
    sh -c "! grep -q 'stop\|restart' '$TMP/calls'"
fake_systemd "$I.prerm" remove; rc=$?
check "systemd: prerm remove succeeds" [ "$rc" -eq 0 ]
check "systemd: prerm remove stops ilbd.service" \
    grep -qx "deb-systemd-invoke stop ilbd.service" "$TMP/calls"
check "ilbd still runs (nothing was really stopped above)" kill -0 "$pid"

# 4. Stop (what systemctl stop does: SIGTERM), remove, purge.
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "TERM: ilbd leaves the cluster and exits" sh -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null
pid=
check "TERM: graceful leave logged" grep -q "leaving the cluster" "$TMP/log"
apt-get remove -y -q ilbd > "$TMP/apt3" 2>&1; rc=$?
check "apt-get remove succeeds (no systemd)" [ "$rc" -eq 0 ]
check "remove keeps the configuration" test -f /etc/ilbd.conf
check "remove keeps the key" test -s /etc/ilbd/cluster.key
apt-get purge -y -q ilbd > "$TMP/apt4" 2>&1; rc=$?
check "apt-get purge succeeds" [ "$rc" -eq 0 ]
check "purge removes the key" test ! -e /etc/ilbd/cluster.key
if [ "$fail" -ne 0 ]; then
	for f in apt1 apt2 apt3 apt4 log calls; do
		[ -f "$TMP/$f" ] && sed "s/^/$f: /" "$TMP/$f"
	done
fi
echo "test_upgrade.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

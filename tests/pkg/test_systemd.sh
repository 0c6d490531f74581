#!/bin/sh
# tests/pkg/test_systemd.sh DEB: the package under a real systemd (PID 1 of a
# systemd-nspawn container booted from a Debian 12 minbase), because the CI
# host's PID 1 is not systemd. Checks Type=notify (start returns after READY,
# STATUS text), the runtime socket, reload through ilbctl (fails on a broken
# configuration, the old one stays), journald priorities, the graceful leave
# on stop and the unit's exposure. Needs root, debootstrap, systemd-container.
set -eu
deb=${1:?usage: test_systemd.sh ILBD_DEB}
[ -f "$deb" ] || { echo "no such package: $deb" >&2; exit 2; }
cache=/var/cache/ilbd-test
base=$cache/systemd-base-$(date +%Y%m%d).tar
root=$(mktemp -d /var/tmp/ilbd-systemd.XXXXXX)
nspawn=
leader=

fail() { echo "FAIL: $*" >&2; exit 1; }
inside() { timeout 60 nsenter -t "$leader" -a "$@"; }

cleanup() {
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill -TERM "$nspawn" 2>/dev/null || true	# nspawn powers the container off
		i=0
		while kill -0 "$nspawn" 2>/dev/null && [ $i -lt 60 ]; do
			sleep 0.5; i=$((i + 1))
		done
		kill -KILL "$nspawn" 2>/dev/null || true
	fi
	rm -rf "$root" "$root.boot.log" "$root.log"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The base rootfs (systemd, dbus, iproute2), cached for the day.
if [ ! -f "$base" ]; then
	mkdir -p "$cache"
	rm -f "$cache"/systemd-base-*.tar
	timeout 600 debootstrap --variant=minbase \
	    --include=systemd,systemd-sysv,dbus,iproute2 bookworm "$root" \
	    http://deb.debian.org/debian > "$root.log" 2>&1 ||
	    { tail -20 "$root.log"; rm -f "$root.log"; fail debootstrap; }
	rm -f "$root.log"
	tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
else
	tar -C "$root" -xf "$base"
fi

# Install the package with the host's network and apt sources (the booted
# container has a private network). No systemd runs in the chroot, so the
# maintainer scripts do not start ilbd.
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp -r /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/"
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
cp "$deb" "$root/root/ilbd.deb"
timeout 300 chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive;
    apt-get update -q && apt-get install -y -q /root/ilbd.deb' > "$root/root/apt.log" 2>&1 ||
    { tail -20 "$root/root/apt.log"; fail "apt-get install in the rootfs"; }

# The shipped /etc/ilbd.conf: one node, 192.0.2.11 on eth0, tun mode.
conf=$root/etc/ilbd.conf
grep -q '192.0.2.11' "$conf" || fail "shipped /etc/ilbd.conf changed (node 192.0.2.11 expected)"

SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout -k 5 300 systemd-nspawn -q \
    --register=no --keep-unit --private-network -b -D "$root" \
    < /dev/null > "$root.boot.log" 2>&1 &
nspawn=$!
i=0
while [ -z "$leader" ] && [ $i -lt 100 ]; do
	# timeout -> systemd-nspawn -> systemd (the container's PID 1)
	for n in $(pgrep -P "$nspawn" || true); do
		for c in $(pgrep -P "$n" || true); do
			[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && leader=$c
		done
	done
	[ -n "$leader" ] || { sleep 0.2; i=$((i + 1)); }
done
[ -n "$leader" ] || { cat "$root.boot.log"; fail "the container did not start"; }
state=
i=0
while [ -z "$state" ] && [ $i -lt 120 ]; do	# until PID 1 answers on its bus
	state=$(inside systemctl is-system-running --wait 2>/dev/null || true)
	[ -n "$state" ] || { sleep 0.5; i=$((i + 1)); }
done
[ "$state" = running ] || { inside systemctl --failed --no-pager || true; fail "boot: $state"; }
[ "$(inside cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
rm -f "$root.boot.log"

# What a Debian host provides: eth0 with the node address, forwarding on,
# /dev/net/tun mode 0666 (udev's rule; nspawn creates it 0600, no udev here).
inside sh -c 'ip link add eth0 type veth peer name eth0p &&
    ip addr add 192.0.2.11/24 dev eth0 && ip link set eth0p up &&
    ip link set eth0 up && echo 1 > /proc/sys/net/ipv4/ip_forward &&
    echo 1 > /proc/sys/net/ipv6/conf/all/forwarding &&
    chmod 0666 /dev/net/tun'

echo "-- start returns after READY"
inside systemctl start ilbd || { inside journalctl -u ilbd --no-pager | tail -20; fail start; }
show=$(inside systemctl show -p ActiveState,SubState,StatusText ilbd)
echo "$show"
echo "$show" | grep -qx ActiveState=active || fail "not active after start"
echo "$show" | grep -qx SubState=running || fail "not running after start"
echo "$show" | grep -q '^StatusText=.*members' || fail "no STATUS text with members"
inside test -S /run/ilbd/ilbd.sock || fail "no /run/ilbd/ilbd.sock"

echo "-- reload: a good configuration"
inside systemctl reload ilbd || fail "reload of a good configuration failed"
echo "-- reload: a broken configuration fails, the old one stays"
cp "$conf" "$root/root/good.conf"
echo 'broken {' >> "$conf"
if inside systemctl reload ilbd; then fail "reload of a broken configuration succeeded"; fi
inside systemctl is-active -q ilbd || fail "not active after a failed reload"
inside journalctl -p warning -u ilbd --no-pager -o cat | grep -q 'keeping the running configuration' ||
    fail "no warning-priority journal entry for the failed reload"
cp "$root/root/good.conf" "$conf"
inside systemctl reload ilbd || fail "reload after repair failed"

echo "-- stop: graceful leave"
inside systemctl stop ilbd || fail stop
[ "$(inside systemctl show -p ActiveState --value ilbd)" = inactive ] || fail "not inactive after stop"
inside journalctl -u ilbd --no-pager -o cat | grep -q 'leaving the cluster' || fail "no graceful-leave line"

echo "-- systemd-analyze security inside the container"
exposure=$(inside systemd-analyze security ilbd.service |
    sed -n 's/.*Overall exposure level for ilbd.service: \([0-9.]*\).*/\1/p')
echo "exposure: ${exposure:-none} (at most 2.5)"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.5) }' || fail "exposure $exposure"
echo "PASS test_systemd"

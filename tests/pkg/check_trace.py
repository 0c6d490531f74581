#!/usr/bin/env python3
"""check_trace.py UNIT TRACE: did the ilbd traced in TRACE (strace -f -o)
stay within what UNIT's SystemCallFilter=, RestrictAddressFamilies=,
DeviceAllow= (with DevicePolicy=closed), MemoryDenyWriteExecute=,
ProcSubset= and ProtectKernelTunables= allow?

systemd cannot run here (PID 1 is not systemd), so the filters are not
enforced: this checks every system call ilbd made, from its execve on,
against the sets systemd would enforce, expanded by systemd-analyze
syscall-filter. Prints each violation; exit 1 if any, 2 on a usage error.
"""
import re
import subprocess
import sys

# What DevicePolicy=closed always allows (systemd.resource-control(5)).
PSEUDO = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
          "/dev/urandom", "/dev/tty", "/dev/ptmx"}


def unit_values(path, key):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith(key + "="):
            out.append(line[len(key) + 1:])
    return out


_groups = {}


def expand(name):
    """A syscall or @group, expanded recursively."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        text = subprocess.run(["systemd-analyze", "syscall-filter", name],
                              check=True, capture_output=True,
                              text=True).stdout
        members = set()
        for line in text.splitlines()[1:]:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            members |= expand(line)
        _groups[name] = members
    return _groups[name]


def allowed_syscalls(unit):
    """SystemCallFilter= lines in order: the first sets allow-list mode;
    later ones add, "~" ones remove (systemd.exec(5))."""
    allowed = None
    for value in unit_values(unit, "SystemCallFilter"):
        deny = value.startswith("~")
        names = set()
        for item in value.lstrip("~").split():
            names |= expand(item)
        if allowed is None:
            if deny:
                sys.exit("check_trace: a deny-list filter is not handled")
            allowed = names
        elif deny:
            allowed -= names
        else:
            allowed |= names
    return allowed


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    unit, trace = sys.argv[1:]
    allowed = allowed_syscalls(unit)
    families = set()
    for v in unit_values(unit, "RestrictAddressFamilies"):
        families |= set(v.split())
    # DeviceAllow= or DevicePolicy=closed|strict: only those devices.
    devices = None
    policy = unit_values(unit, "DevicePolicy")
    if unit_values(unit, "DeviceAllow") or \
            any(p in ("closed", "strict") for p in policy):
        devices = set() if "strict" in policy else set(PSEUDO)
        for v in unit_values(unit, "DeviceAllow"):
            devices.add(v.split()[0])
    mdwx = "yes" in unit_values(unit, "MemoryDenyWriteExecute")
    procpid = "pid" in unit_values(unit, "ProcSubset")
    tunables = "yes" in unit_values(unit, "ProtectKernelTunables")

    call = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()")
    started = False
    bad = []
    seen = set()
    for line in open(trace, errors="replace"):
        m = call.match(line)
        if not m:
            continue
        name = m.group(2) or m.group(3)
        if not started:
            if name == "execve" and 'execve("/usr/sbin/ilbd",' in line and \
                    "= 0" in line:
                started = True
            continue
        seen.add(name)
        if allowed is not None and name not in allowed:
            bad.append("system call not in SystemCallFilter: " + name)
        if name == "socket" and families:
            f = re.search(r"socket\((AF_\w+)", line)
            if f and f.group(1) not in families:
                bad.append("address family not in RestrictAddressFamilies: "
                           + f.group(1))
        if name in ("open", "openat"):
            p = re.search(r'"(/dev/[^"]*)"', line)
            if devices is not None and p and p.group(1) not in devices and \
                    not p.group(1).startswith("/dev/pts/"):
                bad.append("device not in DeviceAllow: " + p.group(1))
        if name in ("open", "openat") and "= -1 E" not in line:
            p = re.search(r'"(/proc/[^"]*)"', line)
            if p and procpid and not re.match(
                    r"/proc/(\d+|self|thread-self)(/|$)", p.group(1)):
                bad.append("hidden by ProcSubset=pid: " + p.group(1))
            p = re.search(r'"(/proc/sys/[^"]*|/sys/[^"]*)"', line)
            if p and tunables and re.search(r"O_WRONLY|O_RDWR", line):
                bad.append("read-only under ProtectKernelTunables=: "
                           + p.group(1))
        if mdwx and name in ("mmap", "mprotect", "pkey_mprotect") and \
                "PROT_WRITE" in line and "PROT_EXEC" in line:
            bad.append("writable and executable memory: " + line.strip())
    if not started:
        print("check_trace: no execve of /usr/sbin/ilbd in the trace")
        return 1
    for b in sorted(set(bad)):
        print(b)
    print("check_trace: %d distinct system calls, %d violations"
          % (len(seen), len(set(bad))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

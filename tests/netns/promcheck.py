#!/usr/bin/python3
"""promcheck.py: parse Prometheus text (URL, file or -) strictly, check it.

Usage: promcheck.py [-q] [--value SEL]... [--labels NAME=K1,K2]... SOURCE [ASSERT]...

SOURCE is http://HOST:PORT/PATH, a file, or - for stdin.  The text is parsed
with prometheus_client.parser.text_string_to_metric_families (it raises on a
malformed sample), and, since that parser is lax, also checked here: every
family has exactly one # HELP and one # TYPE line, before its samples, and its
samples come in one run (a family is never split); every name and label name
is [a-zA-Z_:][a-zA-Z0-9_:]*; a URL must answer 200 with Content-Type
text/plain; version=0.0.4.

SEL is NAME or NAME{k="v",...}: the sum of the samples named NAME whose
labels include the given ones.  ASSERT is SEL OP NUMBER with OP one of
> >= < <= == != (e.g. 'ilbd_packets_received_total>0'); a SEL matching no sample fails.
--value SEL prints SEL's sum ("missing" if no sample), one per line.
--labels NAME=K1,K2: every sample of NAME has those labels (and there is one).

Without -q the families are printed ("# family NAME TYPE N samples").
Exit status: 0 all good, 1 an assertion failed, 2 unreadable or malformed.
"""
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

NAME_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
SEL_RE = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{(.*)\})?\s*$')
ASSERT_RE = re.compile(r'^(.*?)(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)\s*$')
OPS = {
    '>': lambda a, b: a > b, '>=': lambda a, b: a >= b,
    '<': lambda a, b: a < b, '<=': lambda a, b: a <= b,
    '==': lambda a, b: a == b, '!=': lambda a, b: a != b,
}


class Malformed(Exception):
    pass


def fetch(source):
    """The text of SOURCE; a URL must be 200 with the 0.0.4 content type."""
    if source == '-':
        return sys.stdin.read()
    if re.match(r'^https?://', source):
        with urllib.request.urlopen(source, timeout=5) as r:
            ctype = r.headers.get('Content-Type', '')
            if r.status != 200:
                raise Malformed('%s: HTTP %d' % (source, r.status))
            if not (ctype.startswith('text/plain') and
                    'version=0.0.4' in ctype):
                raise Malformed('%s: Content-Type %r' % (source, ctype))
            return r.read().decode('utf-8')
    with open(source, encoding='utf-8') as f:
        return f.read()


def check_layout(text):
    """One HELP and one TYPE per family, first; each family's samples in
    one run; valid names.  Raises Malformed."""
    seen_help, seen_type, done = set(), set(), set()
    current = None
    for n, line in enumerate(text.split('\n'), 1):
        if line == '':
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) < 3 or parts[1] not in ('HELP', 'TYPE'):
                continue
            name = parts[2]
            kind = seen_help if parts[1] == 'HELP' else seen_type
            if name in kind:
                raise Malformed('line %d: second # %s for %s' %
                                (n, parts[1], name))
            if name in done:
                raise Malformed('line %d: # %s for %s after its samples' %
                                (n, parts[1], name))
            kind.add(name)
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        name = re.split(r'[\s{]', line, maxsplit=1)[0]
        if not NAME_RE.match(name):
            raise Malformed('line %d: bad metric name %r' % (n, name))
        family = name
        if name not in seen_type:
            raise Malformed('line %d: sample %s without # TYPE' % (n, name))
        if name not in seen_help:
            raise Malformed('line %d: sample %s without # HELP' % (n, name))
        if family in done:
            raise Malformed('line %d: family %s split' % (n, family))
        if current is not None and current != family:
            done.add(current)
        current = family


def parse(text):
    """The samples as (name, labels, value) and the families."""
    check_layout(text)
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        raise Malformed('parse error: %s' % e)
    samples = []
    for fam in families:
        if fam.type == 'untyped':
            raise Malformed('family %s has no # TYPE' % fam.name)
        for s in fam.samples:
            for k in s.labels:
                if not LABEL_RE.match(k):
                    raise Malformed('%s: bad label name %r' % (s.name, k))
            samples.append((s.name, s.labels, s.value))
    return families, samples


def parse_sel(sel):
    m = SEL_RE.match(sel)
    if m is None:
        raise Malformed('bad selector %r' % sel)
    want = {}
    if m.group(3):
        for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*'
                               r'"((?:[^"\\]|\\.)*)"', m.group(3)):
            want[k] = re.sub(r'\\(.)', lambda e: '\n' if e.group(1) == 'n'
                             else e.group(1), v)
    return m.group(1), want


def select(samples, sel):
    """The sum of the samples SEL matches, or None if none."""
    name, want = parse_sel(sel)
    vals = [v for n, labels, v in samples if n == name and
            all(labels.get(k) == x for k, x in want.items())]
    return sum(vals) if vals else None


def fmt(v):
    if v is None:
        return 'missing'
    return '%d' % v if float(v).is_integer() else repr(v)


def main(argv):
    quiet, values, labels, rest = False, [], [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '-q':
            quiet = True
        elif a in ('--value', '--labels') and i + 1 < len(argv):
            (values if a == '--value' else labels).append(argv[i + 1])
            i += 1
        elif a in ('-h', '--help'):
            print(__doc__)
            return 0
        else:
            rest.append(a)
        i += 1
    if not rest:
        sys.stderr.write(__doc__)
        return 2
    source, asserts = rest[0], rest[1:]
    try:
        families, samples = parse(fetch(source))
    except (Malformed, OSError, UnicodeDecodeError) as e:
        print('promcheck: %s: %s' % (source, e), file=sys.stderr)
        return 2
    if not quiet:
        for fam in families:
            print('# family %s %s %d samples' % (fam.name, fam.type,
                                                  len(fam.samples)))
    rc = 0
    try:
        for sel in values:
            print(fmt(select(samples, sel)))
        for spec in labels:
            name, _, keys = spec.partition('=')
            got = [lab for n, lab, _ in samples if n == name]
            miss = [lab for lab in got
                    if not all(k in lab for k in keys.split(',') if k)]
            if not got or miss:
                print('promcheck: %s: %s' % (spec, 'no sample' if not got
                      else 'labels %s lack some of %s' % (miss[0], keys)),
                      file=sys.stderr)
                rc = 1
        for a in asserts:
            m = ASSERT_RE.match(a)
            if m is None:
                raise Malformed('bad assertion %r' % a)
            v = select(samples, m.group(1))
            if v is None or not OPS[m.group(2)](v, float(m.group(3))):
                print('promcheck: failed: %s (value %s)' % (a, fmt(v)),
                      file=sys.stderr)
                rc = 1
    except Malformed as e:
        print('promcheck: %s' % e, file=sys.stderr)
        return 2
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

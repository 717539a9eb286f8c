"""Helpers shared by the integration tests' Python snippets (stdlib only).

Import with: sys.path.insert(0, LIB); import util
"""
import csv
import datetime as dt
import functools
import gzip
import io
import math
import re
import subprocess

_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,9})?$")
EPOCH = dt.datetime(1970, 1, 1)
HOUR_US = 3600 * 1000000


@functools.lru_cache(maxsize=1 << 17)
def norm_ts(s):
    """'2001-01-01 00:00:00[.000]' or '2001-01-01T00:00:00' -> '2001-01-01 00:00:00[.ffffff]'
    with trailing zero fractions dropped. Raises ValueError on anything else."""
    m = _TS.match(s.strip())
    if not m:
        raise ValueError(f"not a timestamp: {s!r}")
    frac = (m.group(3) or "").rstrip("0")
    if frac == ".":
        frac = ""
    return f"{m.group(1)} {m.group(2)}{frac}"


@functools.lru_cache(maxsize=1 << 17)
def ts_micros(s):
    """Microseconds since the epoch of a timestamp string (no time zone)."""
    n = norm_ts(s)
    base, _, frac = n.partition(".")
    t = dt.datetime.strptime(base, "%Y-%m-%d %H:%M:%S")
    us = int(round((t - EPOCH).total_seconds())) * 1000000
    if frac:
        us += int((frac + "000000")[:6])
    return us


@functools.lru_cache(maxsize=1 << 17)
def micros_to_str(us):
    t = EPOCH + dt.timedelta(microseconds=us)
    s = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        s += ("." + f"{t.microsecond:06d}").rstrip("0")
    return s


def open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_csv(path):
    with open_text(path) as f:
        return list(csv.reader(f))


def close(a, b, rel=1e-9):
    a = float(a)
    b = float(b)
    if a == b:
        return True
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def keyed(rows, nkey, what):
    """rows -> {tuple(first nkey fields): rest}; returns (dict, list of duplicate keys)."""
    out = {}
    dups = []
    for r in rows:
        k = tuple(r[:nkey])
        if k in out:
            dups.append(k)
        out[k] = r[nkey:]
    return out, dups


def compare_keyed(got, want, cmp, what, limit=10):
    """Compares two dicts key by key with cmp(got_row, want_row) -> None or a message.
    Returns a list of problem strings (empty when equal)."""
    problems = []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing:
        problems.append(f"{what}: {len(missing)} keys missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{what}: {len(extra)} unexpected keys, e.g. {extra[:3]}")
    n = 0
    for k in sorted(set(got) & set(want)):
        msg = cmp(got[k], want[k])
        if msg:
            n += 1
            if n <= limit:
                problems.append(f"{what}: key {k}: {msg}")
    if n > limit:
        problems.append(f"{what}: ... {n - limit} more differing rows")
    return problems


def run_sql(eddy, sql, parallelism, batch_size):
    """`eddy run -q --format csv -e SQL` at the given parallelism and batch size (the matrix of
    the differential tests); returns the CompletedProcess (text stdout/stderr)."""
    return subprocess.run([eddy, "run", "-q", "--format", "csv", "--set",
                           f"parallelism.default={parallelism}", "--set",
                           f"eddy.batch-size={batch_size}", "-e", sql],
                          capture_output=True, text=True)


def int_or_null(x):
    """A CSV cell of an integer column: None for NULL (empty), else the int."""
    return None if x == "" else int(x)


def compare_matrix(eddy, sql, want, label, reference="sqlite3", cell=int_or_null,
                   parallelisms=(1, 2), batch_sizes=(1, 2, 1024)):
    """Runs `sql` at every parallelism and batch size and compares its rows (cells converted by
    `cell`, sorted) with `want` (sorted the same way). Prints ok/FAIL per run; returns the
    number of failed runs."""
    want = sorted(want, key=repr)
    failures = 0
    for par in parallelisms:
        for batch in batch_sizes:
            p = run_sql(eddy, sql, par, batch)
            tag = f"{label} p={par} batch={batch}"
            if p.returncode != 0:
                print(f"  FAIL: {tag}: exit {p.returncode}: {p.stderr[:400]}")
                failures += 1
                continue
            got = sorted((tuple(cell(x) for x in r)
                          for r in csv.reader(p.stdout.splitlines()[1:])), key=repr)
            if got != want:
                print(f"  FAIL: {tag}: {len(got)} rows vs {reference} {len(want)}; missing "
                      f"{[r for r in want if r not in got][:3]} extra "
                      f"{[r for r in got if r not in want][:3]}")
                failures += 1
            else:
                print(f"  ok: {tag}: {len(got)} rows = {reference}")
    return failures

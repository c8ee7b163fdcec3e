#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Check the output of `vnetctl metrics` with Prometheus' own parser
(Debian's python3-prometheus-client) and against the `vnetctl -j` replies
(stats, links, macs) taken just before it and just after it: every value
must lie between the two, and every counter of the replies must be there.

    metrics_check.py METRICS STATS1 LINKS1 MACS1 STATS2 LINKS2 MACS2 [INSTANCE]

Prints what it checked; exit status 0 when all of it holds, 1 otherwise.
Used by tests/net/83-metrics.t and 88-deb.t.
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

STATS_REF = re.compile(r"\(vnetctl stats: ([a-z0-9_]+)\.([a-z0-9_]+)\)")
LINKS_REF = re.compile(r"\(vnetctl links: ([a-z0-9_]+)\)")
BY_REASON = {"vnet_dropped_frames": "drop_", "vnet_refused_connections": "refused_"}

errors = []


def err(msg):
    errors.append(msg)


def between(what, v, a, b):
    lo, hi = min(a, b), max(a, b)
    if not lo <= v <= hi:
        err(f"{what} = {v:g}, but the JSON said {a} before and {b} after")
        return False
    return True


def load(path):
    with open(path) as f:
        return json.load(f)


def check_names(fams, instance):
    seen = set()
    for f in fams:
        if not f.name.startswith("vnet_"):
            err(f"family {f.name}: no vnet_ prefix")
        if not f.documentation:
            err(f"family {f.name}: no HELP")
        if f.type not in ("counter", "gauge"):
            err(f"family {f.name}: type {f.type}")
        for s in f.samples:
            if f.type == "counter" and not s.name.endswith("_total"):
                err(f"counter {s.name} does not end in _total")
            if f.type == "gauge" and s.name.endswith("_total"):
                err(f"gauge {s.name} ends in _total")
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                err(f"sample {s.name}{s.labels} appears twice")
            seen.add(key)
            if instance is not None and s.labels.get("vnetd_instance") != instance:
                err(f"sample {s.name}{s.labels}: vnetd_instance is not {instance!r}")
            if instance is None and "vnetd_instance" in s.labels:
                err(f"sample {s.name}{s.labels}: a vnetd_instance label without -i")


def own_labels(s):
    return {k: v for k, v in s.labels.items() if k != "vnetd_instance"}


def check_stats(fams, st1, st2):
    """Every counter of every worker, exactly once."""
    covered = {}
    for f in fams:
        m = STATS_REF.search(f.documentation)
        for s in f.samples:
            lab = own_labels(s)
            if f.name == "vnet_worker_restarts":
                w, c = lab.get("worker"), "restarts"
            elif f.name in BY_REASON:
                w, c = lab.get("worker"), BY_REASON[f.name] + lab.get("reason", "")
            elif m and not lab:
                w, c = m.group(1), m.group(2)
            else:
                continue
            if w not in st1 or c not in st1[w]:
                err(f"{s.name}{lab}: no counter {w}.{c} in vnetctl -j stats")
                continue
            covered[(w, c)] = covered.get((w, c), 0) + 1
            # The unit in the name: a byte counter is _bytes, frames _frames.
            for unit in ("bytes", "frames"):
                if unit in c and f"_{unit}" not in s.name:
                    err(f"{s.name} ({w}.{c}): no _{unit} in its name")
            between(f"{s.name}{lab}", s.value, st1[w][c], st2[w][c])
    for w, ctrs in st1.items():
        for c in ctrs:
            n = covered.get((w, c), 0)
            if n != 1:
                err(f"counter {w}.{c} appears {n} times in the metrics")
    return len(covered)


def check_links(fams, l1, l2):
    before = {x["peer"]: x for x in l1["links"]}
    after = {x["peer"]: x for x in l2["links"]}
    both = set(before) & set(after)
    n = 0
    for f in fams:
        m = LINKS_REF.search(f.documentation)
        if not f.name.startswith("vnet_link_") or not m:
            continue
        field = m.group(1)
        peers = set()
        for s in f.samples:
            lab = own_labels(s)
            peer, host = lab.get("peer"), lab.get("host")
            peers.add(peer)
            if peer not in before and peer not in after:
                err(f"{s.name}{lab}: no such link in vnetctl -j links")
                continue
            ref = before.get(peer) or after.get(peer)
            if host != ref["host"]:
                err(f"{s.name}{lab}: host is {ref['host']!r} in vnetctl -j links")
            if field == "state":
                if s.value != 1 or ref["state"] != "up":
                    err(f"{s.name}{lab} = {s.value:g}, state {ref['state']}")
            elif peer in both:
                between(f"{s.name}{lab}", s.value, before[peer][field], after[peer][field])
            n += 1
        if both - peers:
            err(f"{f.name}: no sample for the links {sorted(both - peers)}")
    return n


def single(fams, name):
    for f in fams:
        if f.name == name and len(f.samples) == 1:
            return f.samples[0].value
    err(f"no single sample of {name}")
    return None


def main():
    if len(sys.argv) not in (8, 9):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        text = f.read()
    st1, l1, m1, st2, l2, m2 = (load(p) for p in sys.argv[2:8])
    instance = sys.argv[8] if len(sys.argv) == 9 else None
    try:
        fams = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's word on a malformed exposition
        print(f"# the Prometheus parser rejects the text: {e!r}")
        return 1
    nsamples = sum(len(f.samples) for f in fams)
    check_names(fams, instance)
    nstats = check_stats(fams, st1, st2)
    nlinks = check_links(fams, l1, l2)
    v = single(fams, "vnet_forwarding_table_entries")
    if v is not None:
        between("vnet_forwarding_table_entries", v, m1["total"], m2["total"])
    v = single(fams, "vnet_links")
    if v is not None:
        between("vnet_links", v, l1["total"], l2["total"])
    print(f"# {len(fams)} families, {nsamples} samples; {nstats} worker counters "
          f"and {nlinks} link samples matched the JSON")
    for e in errors:
        print(f"# {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

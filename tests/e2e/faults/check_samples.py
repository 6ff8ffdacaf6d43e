#!/usr/bin/env python3
"""Checks what the fault tests sampled with `kubectl get --watch` (lib.sh's sample(): lines
"<epoch_ms> <fields...>"). Prints one line per violation and exits 1 if there is any.

  check_samples.py flap FILE
      Lines "<ms> <name> <value>": for each name (a Service), the values it took, consecutive
      repeats folded, must never return to a value it left (A, B, A is a flap: traffic went
      back). Prints the sequence per name.
  check_samples.py weight FILE
      Lines "<ms> <weight>" (a canary weight): it may only rise, or fall to 0 (a revision
      completed and the canary became stable). Any other fall is traffic moving backwards.
  check_samples.py steps FILE
      Lines "<ms> <podhash> s=<stepIndex> ...": per pod hash (revision), the step index never
      decreases (a lost or repeated step would).
  check_samples.py available FILE MIN FROM_MS
      Lines "<ms> <rs-name> r=<spec.replicas> a=<availableReplicas>" (a= is empty at 0): after FROM_MS the sum of
      available pods over all ReplicaSets, replayed event by event, never drops below MIN.
  check_samples.py resumed FILE FROM_MS SKIP
      Prints the epoch ms of the first sample at or after FROM_MS that shows something new: its
      fields (after the first SKIP, e.g. the watch event type) were never sampled before
      FROM_MS. A watch that reconnects lists everything again; only new states count. Exits 1
      when there is none yet.
"""
import sys
from collections import defaultdict


def rows(path, min_fields):
    """(epoch_ms, fields) of each well-formed line."""
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < min_fields:
                continue  # an object the watch printed before the field existed
            try:
                ms = int(parts[0])
            except ValueError:
                continue
            yield ms, parts[1:]


def flap(path):
    seqs = defaultdict(list)
    for _, (name, value, *_) in rows(path, 3):
        if not seqs[name] or seqs[name][-1] != value:
            seqs[name].append(value)
    bad = 0
    for name, seq in sorted(seqs.items()):
        print(f"{name}: {' -> '.join(seq)}")
        seen = set()
        for i, v in enumerate(seq):
            if v in seen:
                print(f"VIOLATION {name} went back to {v} after {seq[i - 1]}")
                bad += 1
            seen.add(v)
    return bad


def weight(path):
    bad, last, seq = 0, None, []
    for _, (w, *_) in rows(path, 2):
        try:
            w = int(w)
        except ValueError:
            continue
        if last is not None and w < last and w != 0:
            print(f"VIOLATION weight fell from {last} to {w}")
            bad += 1
        if last != w:
            seq.append(str(w))
        last = w
    print("weights: " + " -> ".join(seq))
    return bad


def steps(path):
    bad, last = 0, {}
    for _, (pod_hash, index, *_) in rows(path, 3):
        try:
            index = int(index.removeprefix("s="))
        except ValueError:
            continue
        if pod_hash in last and index < last[pod_hash]:
            print(f"VIOLATION revision {pod_hash} went back from step {last[pod_hash]} to {index}")
            bad += 1
        last[pod_hash] = index
    print("last step per revision: " + ", ".join(f"{h}={i}" for h, i in last.items()))
    return bad


def available(path, minimum, from_ms):
    bad, state, lowest = 0, {}, None
    for ms, (name, _replicas, avail, *_) in rows(path, 4):
        avail = avail.removeprefix("a=")
        state[name] = int(avail) if avail.isdigit() else 0
        if ms < from_ms:
            continue
        total = sum(state.values())
        lowest = total if lowest is None else min(lowest, total)
        if total < minimum:
            print(f"VIOLATION at {ms}: {total} available pods < {minimum}: {state}")
            bad += 1
    print(f"lowest available pods after the start: {lowest} (minimum allowed {minimum})")
    return bad


def resumed(path, from_ms, skip):
    before = set()
    for ms, fields in rows(path, 2):
        key = " ".join(fields[skip:])
        if ms < from_ms:
            before.add(key)
        elif key not in before:
            print(ms)
            return 0
    return 1


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == "flap":
        bad = flap(path)
    elif cmd == "weight":
        bad = weight(path)
    elif cmd == "steps":
        bad = steps(path)
    elif cmd == "resumed":
        return resumed(path, int(argv[3]), int(argv[4]))
    elif cmd == "available":
        bad = available(path, int(argv[3]), int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

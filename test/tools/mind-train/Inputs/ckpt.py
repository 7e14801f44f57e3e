#!/usr/bin/env python3
"""Checkpoint helper for the mind-train lit tests (stdlib only).

  ckpt.py compare A B         every tensor of A and B bitwise equal
  ckpt.py state F             the resume state JSON (sorted keys)
  ckpt.py set-state F K=V...  edits state fields (dotted keys, JSON values),
                              re-signs mind.state_sha256 and rewrites F
"""
import hashlib
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {k: data[v["data_offsets"][0]:v["data_offsets"][1]]
               for k, v in header.items()}
    return header, meta, tensors, data


def compare(a, b):
    ha, _, ta, _ = read(a)
    hb, _, tb, _ = read(b)
    if sorted(ta) != sorted(tb):
        sys.exit("tensor names differ: %s" % sorted(set(ta) ^ set(tb)))
    bad = [k for k in sorted(ta)
           if ta[k] != tb[k] or ha[k]["dtype"] != hb[k]["dtype"]
           or ha[k]["shape"] != hb[k]["shape"]]
    if bad:
        sys.exit("%d of %d tensors differ, first: %s" % (len(bad), len(ta),
                                                         bad[0]))
    print("identical: %d tensors" % len(ta))


def set_state(path, assignments):
    header, meta, _, data = read(path)
    state = json.loads(meta["mind.state"])
    for a in assignments:
        key, value = a.split("=", 1)
        node = state
        parts = key.split(".")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = json.loads(value)
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    meta["mind.state"] = text
    meta["mind.state_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def main():
    cmd = sys.argv[1]
    if cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif cmd == "state":
        meta = read(sys.argv[2])[1]
        print(json.dumps(json.loads(meta["mind.state"]), sort_keys=True))
    elif cmd == "set-state":
        set_state(sys.argv[2], sys.argv[3:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()

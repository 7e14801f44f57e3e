"""Writes mindc-eval inputs from a golden file of ../shared/data/golden.

usage: golden_to_eval.py GOLDEN.safetensors WEIGHTS_OUT BATCH_OUT
WEIGHTS_OUT gets every init.<param> as <param>; BATCH_OUT gets micro-step 0's
ids/targets/mask as [batch, seq] int64. Plain Python (no numpy needed).
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return header, data


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, blob = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    header, data = read(sys.argv[1])
    weights, batch = {}, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        blob = data[begin:end]
        if name.startswith("init."):
            weights[name[len("init."):]] = (info["dtype"], info["shape"], blob)
        elif name.startswith("input."):
            steps, b, s = info["shape"]
            batch[name[len("input."):]] = ("I64", [b, s], blob[: b * s * 8])
    write(sys.argv[2], weights)
    write(sys.argv[3], batch)


if __name__ == "__main__":
    main()

"""Writes a copy of a weights file with one defect, for loader tests.

usage: mutate_weights.py IN OUT MODE
MODE: int   model.norm.weight relabelled I32 (same bytes)
      fp8   model.norm.weight stored as F8_E4M3 (one byte per element)
      extra one tensor the model does not have, 'extra.weight'
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from golden_to_eval import read, write  # noqa: E402


def main():
    header, data = read(sys.argv[1])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[begin:end])
    mode, target = sys.argv[3], "model.norm.weight"
    dtype, shape, blob = tensors[target]
    if mode == "int":
        tensors[target] = ("I32", shape, blob)
    elif mode == "fp8":
        count = len(blob) // 4
        tensors[target] = ("F8_E4M3", shape, b"\x38" * count)
    elif mode == "extra":
        tensors["extra.weight"] = (dtype, shape, blob)
    else:
        sys.exit("unknown mode " + mode)
    write(sys.argv[2], tensors)


if __name__ == "__main__":
    main()

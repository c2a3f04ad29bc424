#!/usr/bin/env python3
"""Writes the malformed UBJSON samples in this folder; crisk must refuse every one of them
with CRISK_E_FORMAT or CRISK_E_LIMIT and a message naming a byte offset (test_ubjson.c).
Run it from anywhere: python3 make_corpus.py. The samples are committed; this records how
they were made."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def key(name):
    """An object key as XGBoost writes it: 'L', an int64 length, the bytes."""
    return b"L" + struct.pack(">q", len(name)) + name.encode()


SAMPLES = {
    # Counts and lengths far beyond the bytes present (and beyond any limit).
    "huge_count_array": b"[#L" + struct.pack(">q", 2**62),
    "huge_count_typed": b"[$d#L" + struct.pack(">q", 2**32) + b"\0" * 16,
    "huge_count_object": b"{#L" + struct.pack(">q", 2**40) + key("a") + b"Z",
    "huge_string": b"SL" + struct.pack(">q", 2**61) + b"abc",
    "huge_key": b"{L" + struct.pack(">q", 2**50) + b"abc" + b"Z}",
    "count_one_byte_short": b"[$l#i\x03" + b"\0" * 11,
    "negative_count": b"[#i\xff",
    "negative_string_length": b"[Si\xfe]",
    "max_int64_count": b"[$U#L" + b"\x7f" + b"\xff" * 7,
    "uint64_count_wraps_negative": b"[#L" + b"\xff" * 8,
    # Markers that are not what the position needs.
    "bad_value_marker": b"{" + key("a") + b"X}",
    "bad_key_length_marker": b"{S" + b"i\x01a" + b"Z}",
    "key_length_is_float": b"{d\0\0\0\0Z}",
    "bad_count_marker": b"[#d\0\0\0\0",
    "typed_zero_size_elements": b"[$T#L" + struct.pack(">q", 2**30),
    "typed_null_elements": b"[$Z#i\x05",
    "typed_container_elements": b"[$[#i\x01]",
    "typed_without_count": b"[$di\x01" + b"\0" * 4 + b"]",
    "close_mismatch": b"[}",
    "object_closed_by_bracket": b"{" + key("a") + b"Z]",
    "nul_in_string": b"[Si\x03a\0b]",
    "nul_in_key": b"{i\x03a\0bZ}",
    "nul_char": b"[C\0]",
    "trailing_garbage": b"{}x",
    "two_documents": b"[][]",
    # Truncations.
    "empty": b"",
    "only_noops": b"NNNN",
    "unclosed_array": b"[[[i\x01",
    "unclosed_object": b"{" + key("a") + b"[",
    "object_key_without_value": b"{" + key("abc"),
    "truncated_int64": b"[L\0\0\0]",
    "truncated_float64": b"D\0\0",
    "truncated_typed_payload": b"[$D#i\x02" + b"\0" * 9,
    "dollar_at_end": b"[$",
    "hash_at_end": b"{#",
    "count_too_small": b"[#i\x02i\x01",
    # Nesting deeper than crisk's limit of 1000 containers, closed and unclosed.
    "deep_arrays": b"[" * 5000 + b"]" * 5000,
    "deep_objects": (b"{" + key("k")) * 1500 + b"Z" + b"}" * 1500,
    "deep_unclosed": b"[" * 3000,
}


def main():
    for name, data in SAMPLES.items():
        with open(os.path.join(HERE, name + ".ubj"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

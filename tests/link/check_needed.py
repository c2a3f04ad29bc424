#!/usr/bin/env python3
"""check_needed.py — fails when the shared library's NEEDED entries name a library it must
not link: libxgboost (opened at run time, only for legacy models) and the C++/OpenMP
runtime it would bring. Usage: check_needed.py READELF LIBCRISK_SO"""
import re
import subprocess
import sys

FORBIDDEN = ('libxgboost', 'libstdc++', 'libgomp', 'libdmlc')


def main():
    readelf, lib = sys.argv[1:]
    dynamic = subprocess.run([readelf, '-d', lib], check=True, capture_output=True,
                             text=True).stdout
    needed = re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]', dynamic)
    if not needed:
        sys.exit(f'{lib}: no NEEDED entries found in readelf -d output')
    bad = [n for n in needed if n.split('.so')[0] in FORBIDDEN]
    if bad:
        sys.exit(f'{lib} links {", ".join(bad)}; libcrisk must not (NEEDED: '
                 f'{", ".join(needed)})')
    print(f'{lib}: NEEDED {", ".join(needed)}')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""check_exports.py — fails unless the shared library exports exactly the functions the
public headers declare with CRISK_API, naming every extra export and every declared
function that is missing; and unless HEADER... (the build's list) is every public header
in INCLUDE_DIR. Usage: check_exports.py NM LIBCRISK_SO INCLUDE_DIR HEADER..."""
import glob
import os
import re
import subprocess
import sys

# Comments and string literals removed, a declaration is CRISK_API, its return type, and
# the name before the first "(".
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
DECLARATION = re.compile(r'^\s*CRISK_API\b([^;{(]*?)\b([A-Za-z_]\w*)\s*\(', re.M)


def declared(headers):
    names = {}
    for path in headers:
        with open(path, encoding='utf-8') as f:
            text = COMMENT.sub(' ', f.read())
        for m in DECLARATION.finditer(text):
            names.setdefault(m.group(2), path)
    return names


def exported(nm, lib):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True, capture_output=True,
                         text=True).stdout
    # "address type name"; versioned names carry "@VERSION".
    return {line.split()[2].split('@')[0] for line in out.splitlines()
            if len(line.split()) == 3}


def main():
    nm, lib, include, *headers = sys.argv[1:]
    present = {os.path.realpath(p) for p in
               glob.glob(os.path.join(include, 'crisk.h')) +
               glob.glob(os.path.join(include, 'crisk', '*.h'))}
    unlisted = present - {os.path.realpath(p) for p in headers}
    if unlisted:
        sys.exit('public headers missing from include/meson.build: ' +
                 ' '.join(sorted(unlisted)))
    want = declared(present)
    have = exported(nm, lib)
    if not want:
        sys.exit('no CRISK_API declarations found in ' + ' '.join(sorted(present)))
    problems = [f'exported but not declared with CRISK_API in include/: {n}'
                for n in sorted(have - want.keys())]
    problems += [f'declared in {want[n]} but not exported: {n}'
                 for n in sorted(want.keys() - have)]
    if problems:
        sys.exit(f'{lib}:\n  ' + '\n  '.join(problems))
    print(f'{lib}: exports exactly the {len(want)} functions declared in include/')


if __name__ == '__main__':
    main()

"""Builds the Maven side artifacts of crisk.jar: the sources jar (the public classes and
SWIG's, as compiled into crisk.jar) and the javadoc jar (the javadoc tool's HTML for the
public API), with fixed entry times as build_jar.py does, so that `mvn install:install-file`
installs them beside the jar (docs/java.md, "Maven").

usage: maven_jars.py JAVADOC WERROR SOURCES_JAR JAVADOC_JAR SOURCE.java...
(WERROR is "true" to make javadoc's warnings errors.)
"""
import os
import subprocess
import sys
import tempfile
import zipfile

from build_jar import EPOCH, add

PACKAGE_DIR = "org/crisk/"


def write_jar(output: str, entries: list) -> None:
    """Writes the (name, path) entries to the jar output, with a manifest."""
    tmp = output + ".tmp"
    with zipfile.ZipFile(tmp, "w") as dst:
        dst.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", EPOCH),
                     "Manifest-Version: 1.0\nCreated-By: crisk maven_jars.py\n\n")
        for name, path in sorted(entries):
            add(dst, name, path)
    os.replace(tmp, output)


def main(javadoc: str, werror: str, sources_jar: str, javadoc_jar: str,
         *sources: str) -> int:
    """Writes both jars; returns javadoc's exit status on failure."""
    write_jar(sources_jar, [(PACKAGE_DIR + os.path.basename(s), s) for s in sources])
    with tempfile.TemporaryDirectory() as html:
        # -Xdoclint without "missing": SWIG's package-private classes carry no comments.
        flags = ["-quiet", "-Xdoclint:all,-missing", "-encoding", "UTF-8"]
        proc = subprocess.run([javadoc, *flags, *(["-Werror"] if werror == "true" else []),
                               "-d", html, *sources])
        if proc.returncode != 0:
            return proc.returncode
        entries = []
        for root, dirs, files in os.walk(html):
            dirs.sort()
            entries += [(os.path.relpath(os.path.join(root, f), html).replace(os.sep, "/"),
                         os.path.join(root, f)) for f in files]
        write_jar(javadoc_jar, entries)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

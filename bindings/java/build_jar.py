"""Builds crisk.jar: compiles the Java sources (the public classes and SWIG's) with javac,
then zips the classes with the JNI library at the resource path the loader looks for
(org/crisk/native/<OS>/<arch>/). Also builds the tests' support jar, with no library
("-" for JNI_LIBRARY and RESOURCE_DIR) and JUnit on the class path (--classpath).

meson 1.0.1's jar() does not fit: it expects the class of a generated source at
<private dir>/<basename>.class, so SWIG's classes in package org.crisk are rebuilt on every
ninja run, and it copies java_resources as an order-only dependency, so a rebuilt JNI
library would not reach the jar. Here every input is a real dependency.

usage: build_jar.py JAVAC WERROR OUTPUT_JAR JNI_LIBRARY RESOURCE_DIR [--classpath CP] SOURCE.java...
(WERROR is "true" to make javac's lint warnings errors, as meson's werror option does.)
"""
import os
import subprocess
import sys
import tempfile
import zipfile

# Fixed entry times keep the jar byte-identical from one build to the next.
EPOCH = (1980, 1, 1, 0, 0, 0)


def add(dst: zipfile.ZipFile, name: str, path: str) -> None:
    """Stores the file at path in dst as name, compressed, with a fixed time."""
    info = zipfile.ZipInfo(name, EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(path, "rb") as f:
        dst.writestr(info, f.read())


def main(javac: str, werror: str, output: str, library: str, resource_dir: str,
         *sources: str) -> int:
    """Compiles sources and writes output; returns javac's exit status on failure."""
    classpath = []
    if sources[:1] == ("--classpath",):
        classpath, sources = ["-cp", sources[1]], sources[2:]
    with tempfile.TemporaryDirectory() as classes:
        lint = ["-Xlint:all"] + (["-Werror"] if werror == "true" else [])
        proc = subprocess.run([javac, "--release", "17", *lint, "-encoding", "UTF-8",
                               *classpath, "-d", classes, *sources])
        if proc.returncode != 0:
            return proc.returncode
        tmp = output + ".tmp"
        with zipfile.ZipFile(tmp, "w") as dst:
            manifest = zipfile.ZipInfo("META-INF/MANIFEST.MF", EPOCH)
            dst.writestr(manifest, "Manifest-Version: 1.0\nCreated-By: crisk build_jar.py\n\n")
            for root, dirs, files in os.walk(classes):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(root, name)
                    add(dst, os.path.relpath(path, classes).replace(os.sep, "/"), path)
            if library != "-":
                add(dst, resource_dir.strip("/") + "/" + os.path.basename(library), library)
        os.replace(tmp, output)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

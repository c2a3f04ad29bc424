"""Installs crisk's Maven artifact (crisk.jar with its pom, sources and javadoc jars) into
a local Maven repository, then builds and tests the consumer project beside this script
offline against it: its test scores the example bundle in stream mode through the
artifact and compares with `crisk score --state` (issue 16, item 7).

The repository lives in the build directory. The first run (a repository without the
marker file) fetches the plugins and JUnit from Maven Central, by installing and building
once online; every run then installs the current jar and builds the project with
`mvn -o`, offline, from a fresh copy of it.

usage: run_consumer.py MVN CRISK_CLI SOURCE_DIR REPO JAR POM SOURCES_JAR JAVADOC_JAR
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

INSTALL = "org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file"
PRIMED = "crisk-consumer-primed"


def mvn(cmd: list, *args: str, cwd: Path = None) -> None:
    """Runs Maven in batch mode; raises with its output when it fails."""
    proc = subprocess.run([*cmd, "-B", "--no-transfer-progress", *args], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, [*cmd, *args]))} failed ({proc.returncode}):\n"
                 f"{proc.stdout}{proc.stderr}")
    sys.stdout.write(proc.stdout[-3000:])


def main(mvn_path: str, cli: str, source: str, repo: str, jar: str, pom: str,
         sources_jar: str, javadoc_jar: str) -> int:
    source_dir, repo_dir = Path(source), Path(repo)
    example = source_dir / "models" / "example"
    base = [mvn_path, f"-Dmaven.repo.local={repo_dir}"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        expected = work / "expected.csv"
        with open(expected, "w") as out:
            subprocess.run([cli, "score", "--bundle", example, "--input",
                            example / "declarations.csv", "--state", work / "lanes.state"],
                           stdout=out, check=True)
        project = work / "consumer"
        shutil.copytree(Path(__file__).parent, project,
                        ignore=shutil.ignore_patterns("*.py", "target"))
        install = [INSTALL, f"-Dfile={jar}", f"-DpomFile={pom}", f"-Dsources={sources_jar}",
                   f"-Djavadoc={javadoc_jar}"]
        build = ["test", f"-Dcrisk.example={example}", f"-Dcrisk.expected={expected}"]
        if not (repo_dir / PRIMED).exists():   # the one online step
            mvn(base, *install)
            mvn(base, *build, cwd=project)
            shutil.rmtree(project / "target")
            (repo_dir / PRIMED).write_text("plugins fetched; later runs are offline\n")
        mvn(base, "-o", *install)
        mvn(base, "-o", *build, cwd=project)
        installed = repo_dir / "org" / "crisk" / "crisk"
        for suffix in ("-sources.jar", "-javadoc.jar", ".pom", ".jar"):
            if not list(installed.glob(f"*/crisk-*{suffix}")):
                sys.exit(f"no crisk-*{suffix} installed under {installed}")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

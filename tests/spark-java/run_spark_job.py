"""Compiles SparkScore.java against the Spark jars that PySpark ships (pyspark/jars: the
same Spark as the PySpark test, no second download) and crisk.jar, and runs it with
PySpark's spark-submit in local[2] on the example bundle (issue 16, item 12). Exits 77
(meson's skip) when PySpark is not installed.

usage: run_spark_job.py JAVAC CRISK_JAR SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def main(javac: str, crisk_jar: str, source: str) -> int:
    try:
        import pyspark
    except ImportError:
        print("pyspark is not installed (requirements.txt)")
        return 77
    spark_home = Path(pyspark.__file__).parent
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp) / "classes"
        # -path: Spark's jars name absent jars in their manifests' Class-Path.
        subprocess.run([javac, "--release", "17", "-Xlint:all,-path", "-Werror", "-encoding",
                        "UTF-8", "-cp", f"{spark_home / 'jars'}/*{os.pathsep}{crisk_jar}",
                        "-d", classes, here / "SparkScore.java"], check=True)
        app = Path(tmp) / "crisk-spark-test.jar"
        with zipfile.ZipFile(app, "w") as jar:
            for f in sorted(classes.rglob("*.class")):
                jar.write(f, f.relative_to(classes).as_posix())
        env = dict(os.environ, SPARK_HOME=str(spark_home))
        proc = subprocess.run([spark_home / "bin" / "spark-submit", "--master", "local[2]",
                               "--conf", "spark.ui.enabled=false", "--class", "SparkScore",
                               "--jars", crisk_jar, app,
                               Path(source) / "models" / "example"], env=env)
    return proc.returncode


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

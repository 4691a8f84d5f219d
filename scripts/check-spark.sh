#!/usr/bin/env bash
# Spark, for real (issue 20, item 6): run the transpiled Spark SQL in local mode on the
# fixtures of the DuckDB differential tests and compare it with the Polars core to the cent.
#
#   scripts/check-spark.sh [VENV_DIR]     (default: /tmp/retention-spark-venv)
#
# Installs a JRE (Debian's default-jre-headless, via apt-get, when there is no `java`
# and we are root) and, into a throwaway venv, pyspark and this checkout with its dev
# extra; then runs scripts/check_spark.py, which prints the versions, the date and
# PASS or FAIL (exit status 0 on PASS). Too heavy for every commit: run it before each
# release and record its last result in README.md ("Past one machine").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-/tmp/retention-spark-venv}"
PYTHON="${PYTHON:-python3}"

if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing a JRE (default-jre-headless)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
    else
        echo "FAIL: no java on PATH; install a JRE 17 or later (e.g. default-jre-headless)" >&2
        exit 2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "installing pyspark and retention-cli into $VENV"
"$VENV/bin/pip" install -q pyspark -e "$ROOT[dev]"

cd "$ROOT"
exec "$VENV/bin/python" scripts/check_spark.py

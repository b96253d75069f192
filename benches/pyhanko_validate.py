#!/usr/bin/env python3
"""pyHanko's validation rate of one PDF, for benches/verify.rs.

usage: pyhanko_validate.py FILE.pdf CERTS_DIR N ROUNDS

Runs `pyhanko sign adesverify` (the offline AdES/LTV validation that
../shared/interop/check-pdf.sh uses with LTV=1) N times per round inside
this one Python process, through click's test runner, so Python's start-up
and imports are not counted. Each run parses the command line, loads the
trust bundle's three PEM files and validates every signature of the file.
Prints the median validations per second; exits 1 if a validation fails.
"""
import statistics
import sys
import time

from click.testing import CliRunner
from pyhanko.cli import cli_root

pdf, certs, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
args = [
    "sign", "adesverify", "--executive-summary",
    "--trust", f"{certs}/root.pem", "--trust-replace",
    "--other-certs", f"{certs}/issuing-ca.pem",
    "--other-certs", f"{certs}/tsa.pem",
    pdf,
]
runner = CliRunner()


def once():
    result = runner.invoke(cli_root, args)
    if result.exit_code != 0:
        sys.stderr.write(f"pyhanko adesverify failed:\n{result.output}\n")
        sys.exit(1)


once()  # warm up: imports, plugin discovery
rates = []
for _ in range(rounds):
    started = time.perf_counter()
    for _ in range(n):
        once()
    rates.append(n / (time.perf_counter() - started))
print(f"{statistics.median(rates):.3f}")

#!/usr/bin/python3
"""
run.py - the black-box API tests: starts the real civic311 binary on free
loopback ports and talks HTTP to it over real sockets.

    tests/api/run.py --binary build/asan/civic311          # everything
    tests/api/run.py --binary build/asan/civic311 -k search -k Privacy
    tests/api/run.py --list                                 # the stories

Exit status 0 only if every test passed, every server stopped with exit code
0 on SIGTERM, and no server or CLI run printed a sanitizer report.

Needs Debian's python3 with python3-jsonschema and python3-aiosmtpd (standard
library otherwise).
If started by another interpreter without jsonschema, it re-executes itself
with /usr/bin/python3.
"""
import os
import sys

try:
    import jsonschema  # noqa: F401
    import aiosmtpd  # noqa: F401  (test_notify.py's real SMTP server)
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] +
                 sys.argv[1:])
    sys.stderr.write("api tests: python3-jsonschema or python3-aiosmtpd is missing (apt-get "
                     "install python3-jsonschema python3-aiosmtpd, or scripts/install-deps "
                     "test)\n")
    sys.exit(2)

import argparse  # noqa: E402
import time  # noqa: E402
import unittest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(harness.REPO, "build", "asan", "civic311"),
                    help="the civic311 binary to test (default build/asan/civic311)")
    ap.add_argument("-k", action="append", default=[], metavar="TEXT",
                    help="run only tests whose id contains TEXT (case-insensitive; repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores and logs")
    ap.add_argument("-q", "--quiet", action="store_true", help="one character per test")
    ap.add_argument("--failfast", action="store_true")
    args = ap.parse_args()

    harness.BINARY = os.path.abspath(args.binary)
    harness.KEEP = args.keep
    if not args.list and not os.access(harness.BINARY, os.X_OK):
        sys.stderr.write("api tests: no executable %s (make build/asan/civic311)\n" %
                         harness.BINARY)
        return 2

    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(iter_tests(suite))
    broken = [t for t in tests if type(t).__name__ == "_FailedTest"]
    if args.k:
        pats = [k.lower() for k in args.k]
        tests = [t for t in tests if any(p in t.id().lower() for p in pats)] + \
            [t for t in broken if t not in tests]
    if args.list:
        for t in tests:
            doc = (t.shortDescription() or "").strip()
            print("%s%s" % (t.id(), ("  - " + doc) if doc else ""))
        return 0

    print("api tests: %d tests against %s" % (len(tests), harness.BINARY))
    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=1 if args.quiet else 2, stream=sys.stdout,
                                     failfast=args.failfast)
    result = runner.run(unittest.TestSuite(tests))

    problems = harness.finish()
    import base
    marks = base.all_canaries()
    for srv in harness._servers:
        log = srv.read_log()
        leaked = sorted({m for m in marks if m in log})
        if leaked:
            problems.append("%s: the server log holds values sent by clients (P8): %s" %
                            (srv.log_path, ", ".join(leaked[:10])))
    for p in problems:
        print("\nFAIL (servers): %s" % p)
    elapsed = time.monotonic() - started

    bad = [t for t, _ in result.failures + result.errors]
    known = []
    for t in bad:
        for q, note in base.KNOWN_BUGS.items():
            if t.id().endswith("." + q):
                known.append((t.id(), note))
    ok = result.wasSuccessful() and not problems
    print("\napi tests: %d run, %d failed, %d errors, %d skipped, %d server problems, "
          "%.1fs" % (result.testsRun, len(result.failures), len(result.errors),
                     len(result.skipped), len(problems), elapsed))
    if known:
        print("of the failures, %d are known server bugs (tests kept failing on purpose):" %
              len(known))
        for tid, note in known:
            print("  %s\n      %s" % (tid, note))
    harness.cleanup(failed=not ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

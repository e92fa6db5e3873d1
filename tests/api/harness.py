"""
harness.py - the fixture of the API tests: real installations, real servers,
real sockets.

An Installation is a temporary data directory made by `civic311 init --demo`
(plus api keys made by `civic311 apikey create`). A Server is `civic311 serve`
on 127.0.0.1 with port 0; the port is read from the "listening on ... port N"
line of its stderr, which goes to a file for the whole life of the process.

Stopping a server sends SIGTERM and requires exit code 0; every server's
stderr is scanned for sanitizer reports (AddressSanitizer, UBSan's
"runtime error:", LeakSanitizer) when it stops or is killed, and once more
by run.py at the end of the run. Any such line fails the run.

Most tests share one installation and server (shared()), so the suite stays
fast with the ASan build; tests that need a clean or special store (the
durability test, the search oracle with generated history) make their own.

Nothing here knows Open311: see o311.py for the documents and client.py for
HTTP.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(REPO, "tests", "data")

# Set by run.py.
BINARY = os.path.join(REPO, "build", "asan", "civic311")
KEEP = False  # keep temporary directories (--keep)

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")
LISTEN_RE = re.compile(rb"listening on 127\.0\.0\.1:0 port (\d+)")

_session_dir = None
_session_lock = threading.RLock()
_servers = []  # every Server ever started, for the final scan
_installations = []


def session_dir():
    global _session_dir
    with _session_lock:
        if _session_dir is None:
            _session_dir = tempfile.mkdtemp(prefix="civic311-api-")
        return _session_dir


def child_env():
    """The environment of every civic311 process we run.

    TZ is set to UTC+14 (Kiribati): the server promises UTC everywhere, so a
    stray localtime() shows up as a 14-hour error instead of hiding behind a
    UTC test machine. (Without tzdata the zone falls back to UTC: harmless.)
    """
    env = dict(os.environ)
    env["TZ"] = "Pacific/Kiritimati"
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.setdefault("LSAN_OPTIONS", "")
    return env


def sanitizer_lines(text):
    return [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKERS)]


class CliError(AssertionError):
    pass


class Installation:
    """A data directory with a store, made by `civic311 init`."""

    def __init__(self, name, demo=True, init=True):
        root = os.path.join(session_dir(), name)
        os.mkdir(root)
        self.root = root
        self.data = os.path.join(root, "data")
        self.name = name
        self.cli_log = os.path.join(root, "cli.log")
        _installations.append(self)
        if not init:  # the caller fills self.data (a copy, a restored backup)
            os.mkdir(self.data, 0o700)
            return
        args = ["init", "--data", self.data]
        if demo:
            args.append("--demo")
        self._run(args)

    def clone(self, name):
        """A new installation whose data directory is a copy of this one's
        (modes kept; stop the server first for a quiet copy)."""
        other = Installation(name, init=False)
        os.rmdir(other.data)
        shutil.copytree(self.data, other.data)
        return other

    # ---- config.json ----

    @property
    def config_path(self):
        return os.path.join(self.data, "config.json")

    def config(self):
        with open(self.config_path, encoding="utf-8") as f:
            return json.load(f)

    def set_config(self, **changes):
        """Rewrites config.json with top-level keys changed (a dict value
        is merged one level deep, so privacy={"x": 1} keeps the rest)."""
        cfg = self.config()
        for k, v in changes.items():
            if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                cfg[k].update(v)
            else:
                cfg[k] = v
        fd = os.open(self.config_path, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)

    @property
    def keys_path(self):
        kf = self.config().get("privacy", {}).get("keys_file", "keys/civic311.keys")
        return kf if os.path.isabs(kf) else os.path.join(self.data, kf)

    # ---- the command line ----

    # Commands whose stdout is a secret or personal data by design: the CLI
    # log keeps only their stderr (which must hold neither).
    QUIET_STDOUT = ("apikey", "personal", "disclosure", "staff")

    def _run(self, args, check=True, timeout=120, input=None):
        cmd = [BINARY] + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           input=input if input is not None else b"",
                           env=child_env(), timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        with open(self.cli_log, "a", encoding="utf-8") as f:
            f.write("$ civic311 %s\n[exit %d]\n%s%s\n" % (" ".join(args[:2]), p.returncode,
                                                          out if args[0] not in
                                                          self.QUIET_STDOUT else "",
                                                          err))
        bad = sanitizer_lines(err)
        if bad:
            raise CliError("sanitizer report from `civic311 %s`:\n%s" % (" ".join(args[:2]),
                                                                        err))
        if check and p.returncode != 0:
            raise CliError("`civic311 %s` exited %d:\n%s%s" % (" ".join(args), p.returncode,
                                                              out, err))
        return p.returncode, out, err

    def cli(self, command, sub, *args, check=True, input=None):
        """civic311 COMMAND SUB --data DIR ARGS... -> (exit code, stdout, stderr).
        input: bytes (or str) for its stdin; otherwise stdin is empty."""
        argv = [command]
        if sub is not None:
            argv.append(sub)
        argv += ["--data", self.data] + [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode("utf-8")
        return self._run(argv, check=check, input=input)

    def create_api_key(self, name="api tests"):
        _, out, _ = self.cli("apikey", "create", "--name", name)
        key = out.strip()
        if not re.fullmatch(r"c311_[A-Za-z0-9_-]{43}", key):
            raise CliError("apikey create printed something that is not a key: %r" % out)
        return key

    def update_request(self, rid, status, resolution=None, note=None, internal=False):
        """status None: a note alone (the lifecycle refuses a "change" to the
        status a request has already)."""
        args = ["--id", rid] + (["--status", status] if status is not None else [])
        if resolution is not None:
            args += ["--resolution", resolution]
        if note is not None:
            args += ["--note", note]
        if internal:
            args.append("--internal")
        return self.cli("requests", "update", *args)

    def generate_requests(self, count, days, seed=311):
        return self.cli("requests", "generate", "--count", count, "--days", days,
                        "--seed", seed)

    # ---- the store, read-only ----

    @property
    def db_path(self):
        return os.path.join(self.data, "civic311.db")

    def db(self):
        """A read-only sqlite3 connection to the store (close it yourself)."""
        uri = "file:%s?mode=ro" % self.db_path
        con = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        con.execute("PRAGMA busy_timeout = 30000")
        return con

    def query(self, sql, args=()):
        con = self.db()
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    # Written by the server on its own clock (a signed audit checkpoint
    # every few seconds once the log grew), never by a request: left out of
    # table_counts, whose callers prove a request changed nothing.
    CLOCK_TABLES = ("audit_checkpoint",)

    def table_counts(self, ignore=CLOCK_TABLES):
        """{table: row count} for every table the store has (sqlite_master,
        so a table added by a later migration is counted too), but those in
        ignore."""
        con = self.db()
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name") if r[0] not in ignore]
            return {n: con.execute('SELECT count(*) FROM "%s"' % n).fetchone()[0]
                    for n in names}
        finally:
            con.close()

    # ---- serving ----

    def start_server(self, threads=4, extra=(), env=None):
        """env: more environment for the server (a test build's clock file)."""
        s = Server(self, threads, extra, env)
        s.start()
        return s


class Server:
    """`civic311 serve` on a free loopback port."""

    def __init__(self, inst, threads=4, extra=(), env=None):
        self.inst = inst
        self.env = dict(env or {})
        self.threads = threads
        self.extra = list(extra)
        self.proc = None
        self.port = None
        n = sum(1 for s in _servers if s.inst is inst)
        self.log_path = os.path.join(inst.root, "serve-%d.stderr" % (n + 1))
        self.stopped = False
        _servers.append(self)

    def start(self, timeout=60):
        cmd = [BINARY, "serve", "--data", self.inst.data, "--listen", "127.0.0.1:0",
               "--threads", str(self.threads)] + self.extra
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, env=dict(child_env(), **self.env))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.read_log_bytes())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("civic311 serve exited %d before listening:\n%s" %
                                     (self.proc.returncode, self.read_log()))
            time.sleep(0.02)
        self.kill()
        raise AssertionError("civic311 serve did not log its port within %ds:\n%s" %
                             (timeout, self.read_log()))

    def read_log_bytes(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def read_log(self):
        return self.read_log_bytes().decode("utf-8", "replace")

    def sanitizer_lines(self):
        return sanitizer_lines(self.read_log())

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM; the server must exit 0 with a clean stderr."""
        if self.stopped:
            return
        self.stopped = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("civic311 serve did not stop within %ds of SIGTERM:\n%s" %
                                 (timeout, self.tail()))
        finally:
            self._log.close()
        bad = self.sanitizer_lines()
        if bad:
            raise AssertionError("sanitizer report in %s:\n%s" % (self.log_path, self.read_log()))
        if rc != 0:
            raise AssertionError("civic311 serve exited %d after SIGTERM (want 0):\n%s" %
                                 (rc, self.tail()))

    def kill(self):
        """SIGKILL, as a crash would. Sanitizer lines still fail the caller."""
        if self.stopped:
            return
        self.stopped = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._log.close()
        bad = self.sanitizer_lines()
        if bad:
            raise AssertionError("sanitizer report in %s:\n%s" % (self.log_path, self.read_log()))

    def tail(self, n=40):
        return "\n".join(self.read_log().splitlines()[-n:])

    def client(self, **kw):
        from client import Client
        return Client(self.port, **kw)


# ---- the shared demo installation ----

class Shared:
    """One demo installation, one server and one api key for most tests."""

    def __init__(self):
        self.inst = Installation("shared")
        self.key = self.inst.create_api_key("shared api tests")
        self.server = self.inst.start_server(threads=4)

    @property
    def port(self):
        return self.server.port


_shared = None


def shared():
    global _shared
    with _session_lock:
        if _shared is None:
            _shared = Shared()
        return _shared


def finish():
    """Stops what is still running and scans every log. Returns a list of
    problems (strings); run.py fails the run if there is any."""
    problems = []
    for s in _servers:
        if s.proc is not None and not s.stopped:
            try:
                s.stop()
            except AssertionError as e:
                problems.append("%s: %s" % (s.log_path, e))
    for s in _servers:
        bad = s.sanitizer_lines()
        if bad:
            msg = "%s: sanitizer report:\n  %s" % (s.log_path, "\n  ".join(bad[:20]))
            if msg not in problems:
                problems.append(msg)
    return problems


def cleanup(failed):
    d = _session_dir
    if d is None:
        return
    if KEEP or failed:
        print("api tests: kept %s (logs and stores)" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)

"""
Staff accounts and the console's frame (issue 5 item 1: P3, W3) over HTTP,
as a browser without JavaScript signs in, on a real server of its own
whose clock the test moves (the ASan build reads CIVIC311_TEST_CLOCK_FILE).

- `civic311 staff add` reads the password from stdin, prints the TOTP
  secret and its otpauth:// URI once; `list`, `disable`, `enable`,
  `reset-password`, `reset-totp`; bad command lines refused with nothing
  written.
- Sign-in is the login and password, then the 6-digit code (computed here
  with hmac/hashlib from the printed secret, as an app does): a new
  session id at each step, the console's own cookie (HttpOnly,
  SameSite=Strict, no Max-Age), never c311's.
- A wrong password, an unknown login, a wrong code, a replayed code, a
  locked and a disabled account all get the same answer; five failures
  (passwords and codes together) lock the account for 15 minutes, the
  right password and code included, and the lock ends on its own.
- A session ends after 15 minutes idle and 12 hours in all (the clock
  moved forward); a page read inside the idle limit keeps it alive.
- Every /staff/ address sends a signed-out visitor (or one half signed in)
  to the sign-in page; the admin pages refuse other roles with 403; every
  POST refuses a missing or wrong CSRF token.
- Every console page: no-store, noindex, the security headers.
- The audit log has an entry for every sign-in step and every change; no
  password, code or secret reaches the store in the clear, the audit log
  or a server log.
"""
import base64
import hashlib
import hmac
import os
import re
import struct
import time

import harness
from base import canary
from test_web import Browser, Page, WebTest, set_cookies

STAFF_COOKIE = "c311staff"
REFUSAL = ("The login, the password or the code is not right, or signing in to this account "
           "is paused.")
SECRET_RE = re.compile(r"^secret: ([A-Z2-7]{32})$", re.M)
URI_RE = re.compile(r"^uri: (otpauth://totp/\S+)$", re.M)
IDLE = 15 * 60

# Every console address a later page or a guess could name: each must send
# a signed-out visitor to the sign-in page.
CONSOLE_PATHS = ["/staff", "/staff/", "/staff/admin", "/staff/admin/add",
                 "/staff/admin/1/disable", "/staff/queue", "/staff/contact",
                 "/staff/register", "/staff/figures", "/staff/nothing/here"]


def totp(secret, t, skew=0):
    """RFC 6238 with HMAC-SHA1, 6 digits, 30 s: what an authenticator app shows."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30 + skew), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class StaffBrowser(Browser):
    """A browser that keeps the console's cookie (and would keep c311's)."""

    def __init__(self, port):
        super().__init__(port)
        self.staff = None
        self.last = None

    def request(self, method, path, body=None, headers=None, **kw):
        h = dict(headers or {})
        if self.staff is not None:
            h["Cookie"] = "%s=%s" % (STAFF_COOKIE, self.staff)
        r = super().request(method, path, body=body, headers=h, **kw)
        for name, value, attrs in set_cookies(r):
            if name == STAFF_COOKIE:
                self.staff = value
                self.last = attrs
        return r


class Staff(WebTest):
    # A subclass running its own tests on this setup names its own
    # installation: two of one name in one run collide.
    INSTALLATION = "staff"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inst = harness.Installation(cls.INSTALLATION)
        cls.clock = os.path.join(cls.inst.root, "clock")
        cls.offset = 0
        with open(cls.clock, "w") as f:
            f.write("0\n")
        cls.server = cls.inst.start_server(threads=2,
                                           env={"CIVIC311_TEST_CLOCK_FILE": cls.clock})
        cls.port = cls.server.port
        cls.passwords = []
        cls.secrets = []

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        log = cls.server.read_log() + open(cls.inst.cli_log).read()
        for s in cls.passwords + cls.secrets:
            assert s not in log, "a log holds a password or a secret"

    # ---- helpers ----

    def advance(self, seconds):
        type(self).offset += seconds
        with open(self.clock, "w") as f:
            f.write("%d\n" % self.offset)

    def now(self):
        return time.time() + self.offset

    def add(self, role="agent", agencies=None, login=None):
        """A new member by the CLI: (login, password, secret)."""
        login = login or "u" + canary("s")[-10:].lower().replace("_", "")
        pw = "pw " + canary("staffpw") + " horse"
        args = ["--login", login, "--role", role, "--actor", "tests"]
        if agencies:
            args += ["--agency", agencies]
        _, out, _ = self.inst.cli("staff", "add", *args, input=pw + "\n")
        m = SECRET_RE.search(out)
        self.assertIsNotNone(m, out)
        uri = URI_RE.search(out).group(1)
        self.assertEqual(uri, "otpauth://totp/Civic311:%s?secret=%s&issuer=Civic311"
                              "&algorithm=SHA1&digits=6&period=30" % (login, m.group(1)))
        self.passwords.append(pw)
        self.secrets.append(m.group(1))
        return login, pw, m.group(1)

    def staff_browser(self):
        b = StaffBrowser(self.port)
        self.browsers.append(b)
        return b

    def assertConsolePage(self, r, status):
        page = self.assertPage(r, status)
        self.assertEqual(r.headers.get("X-Robots-Tag"), "noindex, nofollow")
        self.assertIn('<meta name="robots" content="noindex, nofollow">', r.text)
        for name, _, _ in set_cookies(r):
            self.assertEqual(name, STAFF_COOKIE, "a console page sets only its own cookie")
        return page

    def password_step(self, b, login, pw, expect=303):
        page = self.assertConsolePage(b.get("/staff/sign-in"), 200)
        r = b.post("/staff/sign-in", page.form("/staff/sign-in").submit(
            [("login", login), ("password", pw)]))
        self.assertEqual(r.status, expect, r.describe())
        return r

    def code_step(self, b, code, expect=303):
        page = self.assertConsolePage(b.get("/staff/sign-in/code"), 200)
        r = b.post("/staff/sign-in/code",
                   page.form("/staff/sign-in/code").submit([("code", code)]))
        self.assertEqual(r.status, expect, r.describe())
        return r

    def fresh_code(self, secret):
        """A code of a step this member has not used: the next 30 s step."""
        self.advance(30)
        return totp(secret, self.now())

    def sign_in(self, member):
        login, pw, secret = member
        b = self.staff_browser()
        self.password_step(b, login, pw)
        r = self.code_step(b, self.fresh_code(secret))
        self.assertEqual(r.headers.get("Location"), "/staff/")
        return b

    def touched(self, login):
        """Waits for the server's fire-and-forget write of a session's last use
        (a page does not wait for it; a person is never 10 minutes faster)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = self.inst.query("SELECT max(s.last_seen) FROM staff_session s JOIN staff m "
                                   "ON m.id = s.staff_id WHERE m.login = ? AND "
                                   "s.second_factor = 1", (login,))
            if rows[0][0] is not None and rows[0][0] >= int(self.now()) - 5:
                return
            time.sleep(0.05)
        self.fail("the session's last use was not recorded")

    def audit(self):
        return [r[0] for r in self.inst.query("SELECT body FROM audit_entry ORDER BY seq")]

    def refused(self, r):
        self.assertEqual(r.status, 400, r.describe())
        self.assertIn(REFUSAL, Page(r.text).text)

    # ---- the command line ----

    def test_cli_add_list_disable_and_refusals(self):
        """staff add/list/disable/enable/reset-*; bad command lines write nothing"""
        login, pw, secret = self.add("agency_staff", "DOT,DSNY")
        _, out, _ = self.inst.cli("staff", "list")
        self.assertIn("%s\tagency_staff\tDOT,DSNY\tactive" % login, out)
        self.assertNotIn(pw, out)
        before = self.inst.table_counts()
        for args, stdin in ((["--login", "Bad Login", "--role", "agent"], pw),
                            (["--login", "x" + login, "--role", "resident"], pw),
                            (["--login", "x" + login, "--role", "agency_staff"], pw),
                            (["--login", "x" + login, "--role", "agent", "--agency", "DOT"], pw),
                            (["--login", "x" + login, "--role", "agent"], "short"),
                            (["--login", "x" + login, "--role", "agent"], ""),
                            (["--login", login, "--role", "agent"], pw)):
            code, out, err = self.inst.cli("staff", "add", *args, check=False,
                                           input=stdin + "\n")
            self.assertEqual(code, 2, (args, out, err))
            self.assertNotIn("secret:", out)
            self.assertNotIn(pw, out + err)
        self.assertEqual(self.inst.table_counts(), before)
        code, _, err = self.inst.cli("staff", "disable", "--login", "nobody", check=False)
        self.assertEqual(code, 2, err)
        self.inst.cli("staff", "disable", "--login", login, "--actor", "tests")
        _, out, _ = self.inst.cli("staff", "list")
        self.assertIn("%s\tagency_staff\tDOT,DSNY\tdisabled" % login, out)
        self.inst.cli("staff", "enable", "--login", login, "--actor", "tests")
        _, out, _ = self.inst.cli("staff", "reset-totp", "--login", login, "--actor", "tests")
        new_secret = SECRET_RE.search(out).group(1)
        self.secrets.append(new_secret)
        self.assertNotEqual(new_secret, secret)
        new_pw = "pw " + canary("staffpw") + " again"
        self.passwords.append(new_pw)
        self.inst.cli("staff", "reset-password", "--login", login, "--actor", "tests",
                      input=new_pw + "\n")
        # The old password and the old secret no longer sign in; the new ones do.
        b = self.staff_browser()
        self.refused(self.password_step(b, login, pw, expect=400))
        self.sign_in((login, new_pw, new_secret))
        entries = "\n".join(self.audit())
        for what in ("added", "disabled", "enabled", "second factor reset for",
                     "password reset for"):
            self.assertIn(what, entries)
        self.assertIn('"actor":"cli:tests"', entries)

    # ---- signing in ----

    def test_sign_in_two_steps_new_session_ids_and_the_cookie(self):
        """password then code; a new id at each step; HttpOnly, Strict, session-only"""
        login, pw, secret = self.add()
        b = self.staff_browser()
        self.assertConsolePage(b.get("/staff/sign-in"), 200)
        first = b.staff
        self.assertIsNotNone(first)
        self.assertEqual(b.last.get("samesite"), "Strict")
        self.assertTrue(b.last.get("httponly"))
        self.assertEqual(b.last.get("path"), "/")
        self.assertNotIn("max-age", b.last)
        self.assertNotIn("expires", b.last)
        r = self.password_step(b, login, pw)
        self.assertEqual(r.headers.get("Location"), "/staff/sign-in/code")
        half = b.staff
        self.assertNotEqual(half, first)
        # Half signed in: the console itself is not open yet.
        r = b.get("/staff/")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/sign-in"))
        r = self.code_step(b, self.fresh_code(secret))
        self.assertNotEqual(b.staff, half)
        page = self.assertConsolePage(b.get("/staff/"), 200)
        self.assertIn(login, page.text)
        self.assertIn("Contact Center agent", page.text)
        # The console's cookie is no resident's session, and the other way.
        self.assertEqual(self.inst.query("SELECT count(*) FROM web_session")[0][0], 0)
        other = Browser(self.port, cookie=b.staff)
        self.browsers.append(other)
        self.assertNotIn(login, other.get("/account").text)
        # Signing out ends the session in the store: the old cookie is dead.
        old = b.staff
        form = page.form("/staff/sign-out")
        r = b.post("/staff/sign-out", form.submit())
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/sign-in?out=1"))
        self.assertNotEqual(b.staff, old)
        again = self.staff_browser()
        again.staff = old
        self.assertEqual(again.get("/staff/").status, 303)
        entries = [e for e in self.audit() if '"action":"sign_in"' in e]
        self.assertTrue(any('"reason":"signed in"' in e and '"role":"agent"' in e
                            for e in entries), entries[-3:])

    def test_same_answer_for_every_refusal_and_the_lock(self):
        """wrong password, unknown login, wrong/replayed code: one answer; 5 lock for 15 min"""
        login, pw, secret = self.add()
        b = self.staff_browser()
        self.refused(self.password_step(b, "nobody" + login, pw, expect=400))
        self.refused(self.password_step(b, login, pw + "x", expect=400))
        self.refused(self.password_step(b, "NOT A LOGIN", pw, expect=400))
        # The right password, a wrong code; then the right one, then a replay.
        self.password_step(b, login, pw)
        code = self.fresh_code(secret)
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        self.refused(self.code_step(b, wrong, expect=400))
        self.refused(self.code_step(b, "12345", expect=400))
        # Failures on this account: the wrong password, two wrong codes (the
        # unknown logins count on none). Two more lock it.
        self.refused(self.password_step(b, login, "wrong password 4", expect=400))
        self.assertEqual(self.inst.query("SELECT locked_until IS NULL, failed_count FROM staff "
                                         "WHERE login = ?", (login,))[0], (1, 4))
        self.refused(self.password_step(b, login, "wrong password 5", expect=400))
        self.assertEqual(self.inst.query("SELECT locked_until IS NOT NULL FROM staff "
                                         "WHERE login = ?", (login,))[0][0], 1)
        # Locked: the right password is refused with the same answer.
        self.refused(self.password_step(b, login, pw, expect=400))
        # 15 minutes later it opens again.
        self.advance(15 * 60)
        self.password_step(b, login, pw)
        code = self.fresh_code(secret)
        self.code_step(b, code)
        # A replayed code (the same step, a new browser): refused.
        b2 = self.staff_browser()
        self.password_step(b2, login, pw)
        self.refused(self.code_step(b2, code, expect=400))
        reasons = " ".join(self.audit())
        for what in ("refused: unknown login", "password refused", "code refused",
                     "code refused: already used", "locked for 15 minutes", "refused: locked"):
            self.assertIn(what, reasons)
        self.assertNotIn("nobody" + login, reasons)

    def test_disabled_member_is_signed_out_and_refused(self):
        """disable ends every session at once; sign-in refused with the same answer"""
        member = self.add("supervisor", "DSNY")
        b = self.sign_in(member)
        self.assertEqual(b.get("/staff/").status, 200)
        self.inst.cli("staff", "disable", "--login", member[0], "--actor", "tests")
        self.assertEqual(b.get("/staff/").status, 303)
        b2 = self.staff_browser()
        self.refused(self.password_step(b2, member[0], member[1], expect=400))

    def test_idle_expiry_and_the_12_hour_limit(self):
        """15 minutes idle ends a session; used every 10 minutes, 12 hours at most"""
        member = self.add()
        b = self.sign_in(member)
        self.advance(IDLE - 60)
        self.assertEqual(b.get("/staff/").status, 200)  # used: 15 more minutes
        self.touched(member[0])
        self.advance(IDLE - 60)
        self.assertEqual(b.get("/staff/").status, 200)
        self.touched(member[0])
        self.advance(IDLE + 1)
        r = b.get("/staff/")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/sign-in"))
        b = self.sign_in(member)
        for i in range(12 * 6 - 1):
            self.advance(600)
            self.assertEqual(b.get("/staff/").status, 200, "after %d minutes" % (10 * i + 10))
            self.touched(member[0])
        self.advance(700)
        self.assertEqual(b.get("/staff/").status, 303)

    # ---- who may see what ----

    def test_every_console_address_needs_a_sign_in(self):
        """signed out or half signed in: every /staff/ address goes to the sign-in page"""
        login, pw, _ = self.add()
        half = self.staff_browser()
        self.password_step(half, login, pw)
        for b in (self.staff_browser(), half):
            for path in CONSOLE_PATHS:
                for method in ("GET", "POST"):
                    r = b.request(method, path, body=[("csrf", "x")] if method == "POST"
                                  else None)
                    self.assertEqual(r.status, 303, "%s %s: %s" % (method, path, r.describe()))
                    self.assertIn(r.headers.get("Location"), ("/staff/sign-in", "/staff/"))
                    self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertConsolePage(self.staff_browser().get("/staff/sign-in"), 200)

    def test_admin_pages_refuse_other_roles(self):
        """403 with a clear page for every role but admin; the home lists only what exists"""
        target = self.add()
        tid = self.inst.query("SELECT id FROM staff WHERE login = ?", (target[0],))[0][0]
        for role, agencies in (("agent", None), ("agency_staff", "DOT"), ("supervisor", "DOT"),
                               ("privacy_officer", None), ("records_officer", None)):
            b = self.sign_in(self.add(role, agencies))
            home = self.assertConsolePage(b.get("/staff/"), 200)
            self.assertNotIn("/staff/admin", [h for h, _, _ in home.links])
            csrf = home.form("/staff/sign-out").value("csrf")
            page = self.assertConsolePage(b.get("/staff/admin"), 403)
            self.assertEqual(page.h1, ["Not for your role"])
            for path in ("/staff/admin/add", "/staff/admin/%d/disable" % tid):
                r = b.post(path, [("csrf", csrf), ("login", "zz"), ("role", "agent"),
                                  ("agencies", ""), ("password", "x" * 12)]
                           if path.endswith("add") else [("csrf", csrf)])
                self.assertEqual(r.status, 403, r.describe())
        _, out, _ = self.inst.cli("staff", "list")
        self.assertIn("%s\tagent\t-\tactive" % target[0], out)
        self.assertNotIn("zz\t", out)

    def test_admin_adds_disables_and_enables_with_csrf(self):
        """the admin page: add (secret once), disable/enable; CSRF refused; audited"""
        admin = self.add("admin")
        b = self.sign_in(admin)
        home = self.assertConsolePage(b.get("/staff/"), 200)
        self.assertIn("/staff/admin", [h for h, _, _ in home.links])
        page = self.assertConsolePage(b.get("/staff/admin"), 200)
        self.assertIn(admin[0], page.text)
        form = page.form("/staff/admin/add")
        new_login = "n" + canary("a")[-8:].lower().replace("_", "")
        new_pw = "pw " + canary("adminpw") + " horse"
        self.passwords.append(new_pw)
        fill = form.submit([("login", new_login), ("agencies", "DOT"),
                            ("password", new_pw)]) + [("role", "agency_staff")]
        before = self.inst.table_counts()
        # No CSRF, a wrong one: refused, nothing stored.
        for bad in ([p for p in fill if p[0] != "csrf"],
                    [("csrf", "0" * 64) if p[0] == "csrf" else p for p in fill]):
            r = b.post("/staff/admin/add", bad)
            self.assertEqual(r.status, 403, r.describe())
            self.assertNotIn(new_pw, r.text)
        # Bad values: the form again, nothing stored, the password not echoed.
        for name, value in (("login", "Bad Login"), ("role", "resident"),
                            ("agencies", ""), ("password", "short")):
            pairs = [(k, value if k == name else v) for k, v in fill]
            r = b.post("/staff/admin/add", pairs)
            self.assertEqual(r.status, 400, (name, r.describe()))
            self.assertNotIn(new_pw, r.text)
        self.assertEqual(self.inst.table_counts(), before)
        r = b.post("/staff/admin/add", fill)
        added = self.assertConsolePage(r, 200)
        m = re.search(r'id="totp-secret">([A-Z2-7]{32})<', r.text)
        self.assertIsNotNone(m, r.text)
        secret = m.group(1)
        self.secrets.append(secret)
        self.assertIn("otpauth://totp/Civic311:%s?secret=%s" % (new_login, secret),
                      added.text)
        # Shown once: the list never shows it again.
        self.assertNotIn(secret, b.get("/staff/admin").text)
        # The same login again: refused.
        r = b.post("/staff/admin/add", fill)
        self.assertEqual(r.status, 409, r.describe())
        # The new member signs in with what the page showed.
        nb = self.sign_in((new_login, new_pw, secret))
        self.assertIn("DOT", nb.get("/staff/").text)
        # Disable them from the list (CSRF checked), then enable.
        nid = self.inst.query("SELECT id FROM staff WHERE login = ?", (new_login,))[0][0]
        page = self.assertConsolePage(b.get("/staff/admin"), 200)
        form = page.form("/staff/admin/%d/disable" % nid)
        r = b.post(form.action, [("csrf", "f" * 64)])
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(nb.get("/staff/").status, 200)
        r = b.post(form.action, form.submit())
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/admin?done=1"))
        self.assertEqual(nb.get("/staff/").status, 303)  # signed out at once
        page = self.assertConsolePage(b.get("/staff/admin?done=1"), 200)
        form = page.form("/staff/admin/%d/enable" % nid)
        self.assertEqual(b.post(form.action, form.submit()).status, 303)
        # Not their own account; not a member who does not exist.
        aid = self.inst.query("SELECT id FROM staff WHERE login = ?", (admin[0],))[0][0]
        csrf = page.form("/staff/sign-out").value("csrf")
        self.assertEqual(b.post("/staff/admin/%d/disable" % aid, [("csrf", csrf)]).status, 409)
        self.assertEqual(b.post("/staff/admin/99999/disable", [("csrf", csrf)]).status, 404)
        self.assertEqual(b.post("/staff/admin/1/explode", [("csrf", csrf)]).status, 404)
        self.assertEqual(b.get("/staff/admin/add").status, 405)
        entries = "\n".join(self.audit())
        self.assertIn('"actor":"staff:%d","reason":"added staff:%d as agency_staff"'
                      % (aid, nid), entries)
        self.assertIn('"reason":"disabled staff:%d"' % nid, entries)
        self.assertIn('"reason":"enabled staff:%d"' % nid, entries)

    def test_sign_out_and_sign_in_need_csrf(self):
        """a sign-in or sign-out without the page's token changes nothing"""
        login, pw, secret = self.add()
        b = self.staff_browser()
        b.get("/staff/sign-in")
        r = b.post("/staff/sign-in", [("csrf", "0" * 64), ("login", login), ("password", pw)])
        self.assertEqual(r.status, 403, r.describe())
        self.assertNotIn(pw, r.text)
        b = self.sign_in((login, pw, secret))
        r = b.post("/staff/sign-out", [("csrf", "0" * 64)])
        self.assertEqual(r.status, 403)
        self.assertEqual(b.get("/staff/").status, 200)
        r = b.post("/staff/sign-out", [("csrf", "0" * 64), ("extra", "1")])
        self.assertEqual(r.status, 400)

    def test_nothing_secret_in_the_store_or_the_audit_log(self):
        """no password, code or secret in the clear in the database or the audit log"""
        login, pw, secret = self.add("records_officer")
        self.sign_in((login, pw, secret))
        raw = b""
        for suffix in ("", "-wal"):
            p = self.inst.db_path + suffix
            if os.path.exists(p):
                with open(p, "rb") as f:
                    raw += f.read()
        key = base64.b32decode(secret)
        for s in (pw.encode(), secret.encode(), key):
            self.assertNotIn(s, raw)
        audit = "\n".join(self.audit())
        self.assertNotIn(pw, audit)
        self.assertNotIn(secret, audit)

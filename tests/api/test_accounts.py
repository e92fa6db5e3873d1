"""
Residents' accounts on 311 Online (issue 4 item 3: P7, P9, P6, P1) over HTTP,
as a browser without JavaScript uses them, on the real server.

- Register: a new account signs in at once with a NEW session id (no
  fixation); the store holds a keyed digest of the email, the Argon2id
  string and a sealed record, never the email, the name, the password or
  the session id; a COLLECT audit entry names the fields. Refusals (bad
  email, short or long password, the email as password, passwords that
  differ, a name on two lines, unknown or repeated fields, no CSRF) write
  nothing and never echo a password. A taken email gets the same generic
  answer as the page gives for it in any case, and creates nothing.
- Sign in: a wrong password and an unknown email get the same page; five
  failures lock the account for 15 minutes, the right password included;
  a lock that has ended lets it in again. The cookie is the one c311:
  session-only, or Max-Age 30 days only with "keep me signed in", as the
  session row in the store says.
- Sign out is a POST that ends the session in the store: the old cookie is
  signed out everywhere.
- CSRF on every POST; methods and unknown paths.
- My data (page and JSON download): own data only, every reading on the
  audit log; a request filed while signed in is listed with its details.
- Removing my details from a request: confirm first, the request stays
  public and anonymous, an ERASE receipt names the account.
- Deleting the account: the compliance remainder explained, the password
  asked again, the tombstone, the key shredded, sign-in refused after, the
  email free to register again.

Every email, name and password is a canary: run.py fails the run if one
reaches a server log.
"""
import json
import re
import sqlite3
import time

import harness
from base import canary
from test_privacy_engine import db_files, hits
from test_web import (COOKIE, SID_RE, Page, WebTest, contact, parse_set_cookie, set_cookies,
                      tr)

GENERIC_SIGNIN = ("The email or the password is not right. Check them and try again. After 5 "
                  "tries that fail, signing in to the account is paused for 15 minutes.")
GENERIC_REGISTER = ("An account could not be created with these details. If you already have "
                    "one, sign in instead.")
KEEP_SECONDS = 30 * 86400
IDLE_SECONDS = 12 * 3600


def new_email():
    return canary("acct") + "@example.org"


def new_password():
    return "pw " + canary("pass") + " horse"


def csrf_of(page):
    f = [x for form in page.forms for x in form.fields if x.name == "csrf"]
    assert f, "the page has a form with a csrf field"
    return f[0].value


class Accounts(WebTest):
    """Helpers: a browser's way through the account pages."""

    def register(self, b, email, password, name=None, again=None, expect=303):
        page = self.assertPage(b.get("/account/register"), 200)
        fill = [("email", email), ("password", password),
                ("password_again", password if again is None else again)]
        if name is not None:
            fill.append(("display_name", name))
        r = b.post("/account/register", page.form("/account/register").submit(fill))
        self.assertEqual(r.status, expect, r.describe())
        return r

    def signin(self, b, email, password, keep=False, expect=303):
        page = self.assertPage(b.get("/account/signin"), 200)
        fill = [("email", email), ("password", password)]
        if keep:
            fill.append(("keep", "1"))
        r = b.post("/account/signin", page.form("/account/signin").submit(fill))
        self.assertEqual(r.status, expect, r.describe())
        return r

    def signout(self, b):
        page = self.assertPage(b.get("/account"), 200)
        r = b.post("/account/signout", page.form("/account/signout").submit())
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("Location"), "/account/signin?out=1")
        return r

    def new_account(self, name=None, keep=False):
        """A browser signed in to a new account: (browser, email, password, id)."""
        b = self.browser()
        email, password = new_email(), new_password()
        self.register(b, email, password, name)
        return b, email, password, self.account_id(email)

    def account_id(self, email):
        """The id of the live account whose record the audit log's COLLECT
        entry for it names (the store holds no email to look up by): the
        newest account, right after registering."""
        rows = self.inst.query("SELECT id FROM account WHERE deleted_at IS NULL "
                               "ORDER BY id DESC LIMIT 1")
        self.assertTrue(rows, "no account after registering %s" % email)
        return rows[0][0]

    def signed_in(self, b):
        """Whether the browser's cookie is signed in (GET /account stays)."""
        r = b.get("/account")
        if r.status == 303:
            self.assertEqual(r.headers.get("Location"), "/account/signin")
            return False
        self.assertPage(r, 200, r.headers.get("Content-Language"))
        return True

    def session_rows(self, account_id):
        return self.inst.query("SELECT created_at, last_seen, expires_at, persistent FROM "
                               "web_session WHERE account_id = ?", (account_id,))

    def audit_bodies(self, actor):
        rows = self.inst.query("SELECT body FROM audit_entry ORDER BY seq")
        return [json.loads(r[0]) for r in rows if '"actor":"%s"' % actor in r[0]]

    def file_signed_in(self, b, code="DOT-POTHOLE", p=None):
        """Files a report with b (signed in); returns (id, contact given)."""
        p = p or contact()
        _, review = self.to_review(b, code, self.fill(code, p))
        return self.filed_id(self.send(b, code, review)), p

    def data_json(self, b):
        r = b.get("/account/data.json")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.ctype, "application/json; charset=utf-8")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertEqual(r.headers.get("Content-Disposition"),
                         'attachment; filename="civic311-my-data.json"')
        return r.json()


# ---------------------------------------------------------------------------
# Registering
# ---------------------------------------------------------------------------

class AccountRegister(Accounts):
    def test_register_signs_in_with_a_new_session_and_stores_nothing_in_clear(self):
        """a new session id at once; digest, Argon2id, sealed record; COLLECT entry; no plaintext"""
        b = self.browser()
        b.get("/")
        anonymous = b.cookie
        email, password, name = new_email(), new_password(), canary("name")
        before = self.counts()
        r = self.register(b, email, password, name)
        self.assertEqual(r.headers.get("Location"), "/account?welcome=1")
        cookies = set_cookies(r)
        self.assertEqual(len(cookies), 1)
        cname, sid, attrs = cookies[0]
        self.assertEqual(cname, COOKIE)
        self.assertRegex(sid, SID_RE)
        self.assertNotEqual(sid, anonymous, "the session id must change at sign-in")
        for a in ("max-age", "expires", "secure"):
            self.assertNotIn(a, attrs)
        self.assertEqual((attrs.get("httponly"), attrs.get("samesite"), attrs.get("path")),
                         (True, "Lax", "/"))
        page = self.assertPage(b.get("/account?welcome=1"), 200)
        self.assertEqual(page.h1, ["My account"])
        self.assertIn(("/account", {"href": "/account"}, "My account"), page.links)
        self.assertNotIn(email, page.text, "the account page shows no personal data")

        after = self.counts()
        self.assertEqual(after["account"], before["account"] + 1)
        self.assertEqual(after["subject"], before["subject"] + 1)
        self.assertEqual(after["web_session"], before["web_session"] + 1)
        aid = self.account_id(email)
        row = self.inst.query("SELECT length(email_digest), password_hash, length(sealed), "
                              "a.key_version, failed_count, locked_until, deleted_at, s.kind "
                              "FROM account a JOIN subject s ON s.id = a.subject_id "
                              "WHERE a.id = ?", (aid,))[0]
        self.assertEqual(row[0], 32)
        self.assertTrue(row[1].startswith("$argon2id$v=19$m=65536,t=2,p=1$"), row[1])
        self.assertGreater(row[2], len(email) + len(name))
        self.assertEqual(row[3:], (1, 0, None, None, "account"))
        # The old anonymous id is not signed in; the store holds no session id.
        self.assertFalse(self.signed_in(self.browser(cookie=anonymous)))
        found = hits(db_files(self.inst.data), [email, email.lower(), name, password,
                                                password.encode("utf-16-le"), sid])
        self.assertEqual(found, [], "in clear in the store")
        collect = [e for e in self.audit_bodies("account:%d" % aid) if e["action"] == "collect"]
        self.assertEqual(len(collect), 1, collect)
        self.assertEqual(collect[0]["fields"], "email,display_name")
        self.assertLogClean([email, name, password, sid])

    def test_refusals_write_nothing_and_never_echo_a_password(self):
        """bad email, 9 characters, 1025 bytes, the email itself, two passwords, a two-line name"""
        b = self.browser()
        email = new_email()
        good = new_password()
        cases = [
            ("not an email", good, None, None, "email", "Enter your email address"),
            (email, "nine char", None, None, "password", "at least 10 characters"),
            (email, "ñ" * 9, None, None, "password", "at least 10 characters"),
            (email, "x" * 1025, None, None, "password", "too long"),
            (email, email.upper(), None, None, "password", "cannot be your email"),
            (email, good, good + "x", None, "password_again", "not the same"),
            (email, good, None, "two\nlines", "display_name", "one line"),
        ]
        before = self.counts()
        for e, pw, again, name, field, said in cases:
            r = self.register(b, e, pw, name, again=again, expect=400)
            page = self.assertPage(r, 400)
            alerts = page.alerts()
            self.assertEqual(len(alerts), 1, alerts)
            self.assertIn(said, alerts[0], (e, pw[:12]))
            self.assertIn('id="%s"' % field, r.text)
            self.assertRegex(r.text, r'name="%s"[^>]*aria-invalid="true"' % field)
            for f in ("password", "password_again"):
                self.assertEqual(page.form("/account/register").value(f), "",
                                 "a password written back into the page")
            self.assertNotIn(pw, r.text)
            if e == email:
                self.assertEqual(page.form("/account/register").value("email"), email)
        self.assertNothingStored(before, "refused registrations")

    def test_crafted_forms_are_refused(self):
        """no CSRF, a wrong one, an unknown field, a repeated field, not urlencoded: nothing stored"""
        b = self.browser()
        page = self.assertPage(b.get("/account/register"), 200)
        token = csrf_of(page)
        email, pw = new_email(), new_password()
        base = [("email", email), ("password", pw), ("password_again", pw)]
        before = self.counts()
        r = b.post("/account/register", base)
        self.assertPage(r, 403)
        r = b.post("/account/register", [("csrf", "0" * 64)] + base)
        self.assertPage(r, 403)
        r = b.post("/account/register", [("csrf", token)] + base + [("age", "40")])
        self.assertPage(r, 400)
        r = b.post("/account/register", [("csrf", token)] + base + [("email", new_email())])
        self.assertPage(r, 400)
        r = b.request("POST", "/account/register", body=json.dumps(dict(base)),
                      ctype="application/json")
        self.assertPage(r, 400)
        self.assertNothingStored(before, "crafted registrations")

    def test_a_taken_email_gets_the_generic_answer_and_creates_nothing(self):
        """the same email in another case: 400, the generic sentence, no second account or subject"""
        _, email, _, _ = self.new_account()
        before = self.counts()
        b2 = self.browser()
        r = self.register(b2, email.upper(), new_password(), expect=400)
        page = self.assertPage(r, 400)
        self.assertEqual([a for a in page.alerts()],
                         ["Please check the form" + GENERIC_REGISTER])
        self.assertFalse(self.signed_in(b2))
        self.assertNothingStored(before, "a taken email")
        # A free email with the same password works: the refusal was the email.
        self.register(self.browser(), new_email(), new_password())


# ---------------------------------------------------------------------------
# Signing in and out, the cookie
# ---------------------------------------------------------------------------

def without_tokens(text):
    return re.sub(r'name="csrf" value="[0-9a-f]+"', "", text)


class AccountSignin(Accounts):
    def test_wrong_password_and_unknown_email_look_the_same(self):
        """400, the same sentence, the same page (but the email typed): the email's existence is not told"""
        b, email, password, aid = self.new_account()
        self.signout(b)
        other = new_email()
        r1 = self.signin(self.browser(), email, "wrong " + password, expect=400)
        r2 = self.signin(self.browser(), other, "wrong " + password, expect=400)
        p1, p2 = self.assertPage(r1, 400), self.assertPage(r2, 400)
        self.assertEqual(p1.alerts(), ["Please check the form" + GENERIC_SIGNIN])
        self.assertEqual(p2.alerts(), p1.alerts())
        self.assertEqual(without_tokens(r1.text).replace(email, "E"),
                         without_tokens(r2.text).replace(other, "E"))
        self.assertEqual(self.inst.query("SELECT failed_count FROM account WHERE id = ?",
                                         (aid,))[0][0], 1)
        r = self.signin(self.browser(), "", "", expect=400)
        self.assertIn("Enter your email and your password.", self.assertPage(r, 400).alerts()[0])
        self.assertLogClean([email, other, password])

    def test_five_failures_lock_the_account_for_15_minutes(self):
        """the 6th try with the right password is refused alike; an ended lock lets it in"""
        b, email, password, aid = self.new_account()
        self.signout(b)
        t0 = int(time.time())
        for i in range(5):
            r = self.signin(self.browser(), email, "wrong %d %s" % (i, password), expect=400)
        locked_until, count = self.inst.query(
            "SELECT locked_until, failed_count FROM account WHERE id = ?", (aid,))[0]
        self.assertTrue(t0 + 900 - 5 <= locked_until <= int(time.time()) + 900 + 5, locked_until)
        self.assertEqual(count, 0)
        right = self.signin(self.browser(), email, password, expect=400)
        self.assertEqual(self.assertPage(right, 400).alerts(),
                         ["Please check the form" + GENERIC_SIGNIN])
        self.assertEqual(self.inst.query("SELECT locked_until FROM account WHERE id = ?",
                                         (aid,))[0][0], locked_until, "a locked try moves nothing")
        # Another account is not touched by this one's lock.
        b2, email2, password2, _ = self.new_account()
        self.signout(b2)
        self.signin(b2, email2, password2)
        # The lock's end, moved into the past behind the server's back (the
        # server's clock is the machine's: 15 minutes are not waited here;
        # tests/unit/test_account.c drives the clock through the end).
        con = sqlite3.connect(self.inst.db_path, timeout=30)
        try:
            con.execute("UPDATE account SET locked_until = ? WHERE id = ?", (t0 - 1, aid))
            con.commit()
        finally:
            con.close()
        b3 = self.browser()
        self.signin(b3, email, password)
        self.assertTrue(self.signed_in(b3))
        self.assertEqual(self.inst.query("SELECT failed_count, locked_until FROM account "
                                         "WHERE id = ?", (aid,))[0], (0, None))

    def test_session_cookie_unless_keep_me_signed_in(self):
        """no Max-Age/Expires without the box; Max-Age 30 days with it; the store agrees; the switch keeps it"""
        b, email, password, aid = self.new_account()
        self.signout(b)
        plain = self.browser()
        plain.get("/")
        before = plain.cookie
        r = self.signin(plain, email, password)
        self.assertEqual(r.headers.get("Location"), "/account")
        (name, sid, attrs), = set_cookies(r)
        self.assertNotEqual(sid, before, "no session fixation")
        self.assertNotIn("max-age", attrs)
        self.assertNotIn("expires", attrs)
        self.assertEqual((attrs.get("httponly"), attrs.get("samesite")), (True, "Lax"))

        kept = self.browser()
        t0 = int(time.time())
        r = self.signin(kept, email, password, keep=True)
        (name, ksid, attrs), = set_cookies(r)
        self.assertEqual(name, COOKIE)
        self.assertNotIn("expires", attrs)
        self.assertTrue(KEEP_SECONDS - 10 <= int(attrs["max-age"]) <= KEEP_SECONDS,
                        attrs["max-age"])
        rows = sorted(self.session_rows(aid), key=lambda x: x[3])
        self.assertEqual(len(rows), 2, rows)
        (c0, l0, e0, p0), (c1, l1, e1, p1) = rows
        self.assertEqual((p0, p1), (0, 1))
        self.assertTrue(t0 - 5 <= c0 <= t0 + 5 and abs(e0 - c0 - IDLE_SECONDS) <= 1, rows)
        self.assertTrue(abs(e1 - c1 - KEEP_SECONDS) <= 1, rows)
        self.assertTrue(self.signed_in(plain) and self.signed_in(kept))
        # A page while signed in sets no cookie; the language switch keeps
        # the session, adds the language and keeps the Max-Age.
        self.assertEqual(set_cookies(kept.get("/account")), [])
        r = kept.get("/lang/es?next=/account")
        (name, value, attrs), = set_cookies(r)
        self.assertEqual(value, ksid + "~es")
        self.assertIn("max-age", attrs)
        r = plain.get("/lang/es?next=/account")
        (name, value, attrs), = set_cookies(r)
        self.assertEqual(value, sid + "~es")
        self.assertNotIn("max-age", attrs)
        self.assertTrue(self.signed_in(kept))
        self.assertLogClean([sid, ksid])

    def test_signout_ends_the_session_in_the_store(self):
        """POST with CSRF; the old cookie replayed is signed out; a new anonymous id; the row is gone"""
        b, email, password, aid = self.new_account()
        old = b.cookie
        self.assertEqual(len(self.session_rows(aid)), 1)
        r = self.signout(b)
        (name, sid, attrs), = set_cookies(r)
        self.assertNotEqual(sid, old)
        self.assertNotIn("max-age", attrs)
        self.assertEqual(self.session_rows(aid), [])
        page = self.assertPage(b.get("/account/signin?out=1"), 200)
        self.assertIn("You are signed out.", page.text)
        self.assertIn(("/account/signin", {"href": "/account/signin"}, "Sign in"), page.links)
        self.assertFalse(self.signed_in(self.browser(cookie=old)))
        self.assertFalse(self.signed_in(b))
        # Signing out while signed out, or by GET, changes nothing.
        self.assertEqual(b.get("/account/signout").status, 405)

    def test_signing_in_again_ends_the_session_it_replaces(self):
        """a signed-in browser that signs in again gets a new id; the old one is gone"""
        b, email, password, aid = self.new_account()
        old = b.cookie
        # GET /account/signin while signed in goes to the account.
        r = b.get("/account/signin")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/account"))
        # A sign-in form posted from another tab still works, and replaces
        # the session (the token is this session's, from any of its pages).
        b2 = self.browser(cookie=old)
        token = csrf_of(self.assertPage(b2.get("/account/delete"), 200))
        r = b2.post("/account/signin", [("csrf", token), ("email", email),
                                        ("password", password)])
        self.assertEqual(r.status, 303, r.describe())
        self.assertNotEqual(b2.cookie, old)
        self.assertEqual(len(self.session_rows(aid)), 1)
        self.assertFalse(self.signed_in(self.browser(cookie=old)))
        self.assertTrue(self.signed_in(b2))


# ---------------------------------------------------------------------------
# CSRF, methods, pages
# ---------------------------------------------------------------------------

class AccountForms(Accounts):
    def test_every_post_needs_its_csrf_token(self):
        """register, sign in, sign out, delete, remove: 403 without or with another session's token"""
        b, email, password, aid = self.new_account()
        rid, _ = self.file_signed_in(b)
        stranger = self.browser()
        other_token = csrf_of(self.assertPage(stranger.get("/account/signin"), 200))
        before = self.counts()
        posts = [
            ("/account/register", [("email", new_email()), ("password", "x" * 12),
                                   ("password_again", "x" * 12)]),
            ("/account/signin", [("email", email), ("password", password)]),
            ("/account/signout", []),
            ("/account/delete", [("password", password)]),
            ("/account/requests/%s/remove" % rid, [("confirm", "1")]),
        ]
        for path, pairs in posts:
            for token in (None, other_token, ""):
                body = pairs + ([("csrf", token)] if token is not None else [])
                r = b.post(path, body)
                self.assertEqual(r.status, 403, "%s %r: %s" % (path, token, r.describe()))
                self.assertPage(r, 403)
        self.assertNothingStored(before, "posts without their token")
        self.assertTrue(self.signed_in(b))

    def test_pages_methods_and_the_header_link(self):
        """anonymous: account pages go to sign-in; 404 and 405 with Allow; every page one h1, no inline script"""
        b = self.browser()
        home = self.assertPage(b.get("/"), 200)
        self.assertIn(("/account/signin", {"href": "/account/signin"}, "Sign in"), home.links)
        for path in ("/account", "/account/data", "/account/data.json", "/account/delete"):
            r = b.get(path)
            self.assertEqual((r.status, r.headers.get("Location")), (303, "/account/signin"),
                             path)
        self.assertErrorPage(b.get("/account/nope"), 404)
        self.assertErrorPage(b.get("/account/requests/1/remove"), 405)
        r = b.request("PUT", "/account/signin")
        self.assertErrorPage(r, 405)
        self.assertEqual(r.headers.get("Allow"), "GET, HEAD, POST")
        self.assertEqual(b.request("DELETE", "/account").headers.get("Allow"), "GET, HEAD")
        self.assertEqual(b.get("/account/signout").headers.get("Allow"), "POST")
        for path in ("/account/register", "/account/signin"):
            page = self.assertPage(b.get(path), 200)
            self.assertNotIn("age", [f.name for form in page.forms for f in form.fields])
            self.assertFalse(re.search(r"birth|\bage\b", " ".join(
                f.name or "" for form in page.forms for f in form.fields)))
        # Signed in: the header says My account, and the pages are whole pages.
        b2, email, password, aid = self.new_account()
        for path in ("/", "/account", "/account/data", "/account/delete", "/privacy"):
            page = self.assertPage(b2.get(path), 200)
            self.assertIn(("/account", {"href": "/account"}, "My account"), page.links, path)
        r = b2.get("/account/register")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/account"))

    def test_spanish_pages(self):
        """Accept-Language es: the account pages in Spanish, from po/es.po"""
        b = self.browser(accept_language="es")
        page = self.assertPage(b.get("/account/signin"), 200, "es")
        self.assertEqual(page.h1, [tr("es", "Sign in")])
        self.assertNotEqual(tr("es", "Sign in"), "Sign in")
        page = self.assertPage(b.get("/account/register"), 200, "es")
        self.assertEqual(page.h1, [tr("es", "Create an account")])
        self.assertIn(tr("es", "Keep me signed in for 30 days"),
                      self.assertPage(b.get("/account/signin"), 200, "es").text)

    def test_privacy_page_says_what_accounts_hold(self):
        """the policy: what is held, until deletion, the persistent cookie only when asked"""
        page = self.assertPage(self.browser().get("/privacy"), 200)
        self.assertIn("Accounts", [t for tag, t in page.headings if tag == "h2"])
        self.assertIn("until you delete the account", page.text)
        self.assertIn("Keep me signed in", page.text)


# ---------------------------------------------------------------------------
# My requests, my data, removing details, deleting the account
# ---------------------------------------------------------------------------

class AccountData(Accounts):
    def test_my_requests_and_my_data_are_mine_only(self):
        """a report filed signed in is listed; data.json and the page hold it, audited; others see none"""
        name = canary("name")
        b, email, password, aid = self.new_account(name=name)
        rid, p = self.file_signed_in(b)
        page = self.assertPage(b.get("/account"), 200)
        self.assertIn(("/requests/%s" % rid, {"href": "/requests/%s" % rid}, "Request %s" % rid),
                      page.links)
        page.form("/account/requests/%s/remove" % rid)
        for v in p.values():
            self.assertNotIn(v, page.text, "my account page shows no personal data")

        reads_before = len(self.audit_bodies("account:%d" % aid))
        doc = self.data_json(b)
        self.assertEqual(doc["account"]["id"], aid)
        self.assertEqual(doc["account"]["email"], email)
        self.assertEqual(doc["account"]["display_name"], name)
        self.assertNotIn("password_hash", json.dumps(doc))
        self.assertNotIn("$argon2id$", json.dumps(doc))
        self.assertEqual(len(doc["account"]["sessions"]), 1)
        self.assertFalse(doc["account"]["sessions"][0]["keep_signed_in"])
        reqs = {r["service_request_id"]: r for r in doc["requests"]}
        self.assertIn(rid, reqs)
        mine = reqs[rid]
        self.assertEqual(mine["service_code"], "DOT-POTHOLE")
        for k in ("first_name", "last_name", "email", "phone"):
            self.assertEqual(mine["personal"].get(k), p[k], k)
        self.assertEqual(mine["personal"].get("account_id"), str(aid))
        reads = [e for e in self.audit_bodies("account:%d" % aid)[reads_before:]
                 if e["action"] == "read"]
        self.assertGreaterEqual(len(reads), 2, reads)  # the account, the request
        self.assertTrue(all(e["role"] == "resident" and e["purpose"] == "address_request"
                            for e in reads), reads)
        self.assertIn(int(rid), [e.get("request") for e in reads])

        page = self.assertPage(b.get("/account/data"), 200)
        for v in (email, name, p["email"], p["first_name"]):
            self.assertIn(v, page.text)

        # Someone else's account sees none of it, in either form.
        b2, email2, _, aid2 = self.new_account()
        doc2 = self.data_json(b2)
        self.assertEqual(doc2["account"]["email"], email2)
        self.assertEqual(doc2["requests"], [])
        text2 = b2.get("/account/data").text + json.dumps(doc2)
        for v in (email, name, p["email"], p["first_name"], 'href="/requests/%s"' % rid):
            self.assertNotIn(v, text2)
        self.assertLogClean([email, name, password] + list(p.values()))

    def test_remove_my_details_from_a_request(self):
        """confirm first; then the request stays public and anonymous, an ERASE receipt names the account"""
        b, email, password, aid = self.new_account()
        rid, p = self.file_signed_in(b)
        page = self.assertPage(b.get("/account"), 200)
        form = page.form("/account/requests/%s/remove" % rid)
        r = b.post(form.action, form.submit())
        confirm = self.assertPage(r, 200)
        self.assertIn("The request itself stays", confirm.text)
        before = self.inst.query("SELECT count(*) FROM personal_field WHERE request_id = ?",
                                 (rid,))[0][0]
        self.assertGreater(before, 0)
        # Someone else cannot, nor can an anonymous visitor.
        b2, _, _, _ = self.new_account()
        f2 = self.assertPage(b2.get("/account"), 200).forms[-1]
        token2 = [f.value for f in f2.fields if f.name == "csrf"][0]
        r = b2.post("/account/requests/%s/remove" % rid, [("csrf", token2), ("confirm", "1")])
        self.assertErrorPage(r, 404)
        anon = self.browser()
        t = csrf_of(self.assertPage(anon.get("/account/signin"), 200))
        r = anon.post("/account/requests/%s/remove" % rid, [("csrf", t), ("confirm", "1")])
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/account/signin"))
        self.assertEqual(self.inst.query("SELECT count(*) FROM personal_field WHERE "
                                         "request_id = ?", (rid,))[0][0], before)

        final = confirm.form("/account/requests/%s/remove" % rid)
        r = b.post(final.action, final.submit())
        self.assertEqual((r.status, r.headers.get("Location")),
                         (303, "/account?removed=%s" % rid), r.describe())
        self.assertEqual(self.inst.query("SELECT count(*) FROM personal_field WHERE "
                                         "request_id = ?", (rid,))[0][0], 0)
        self.assertEqual(self.inst.query("SELECT count(*) FROM blind_index WHERE "
                                         "request_id = ?", (rid,))[0][0], 0)
        erase = [e for e in self.audit_bodies("account:%d" % aid) if e["action"] == "erase"]
        self.assertEqual(len(erase), 1, erase)
        self.assertEqual(erase[0]["request"], int(rid))
        self.assertIn("removed by its reporter", erase[0]["reason"])
        page = self.assertPage(b.get("/account?removed=%s" % rid), 200)
        self.assertIn("Your details were removed from request %s." % rid, page.text)
        self.assertNotIn(("/requests/%s" % rid, {"href": "/requests/%s" % rid},
                          "Request %s" % rid), page.links)
        public = self.assertPage(self.browser().get("/requests/%s" % rid), 200)
        self.assertEqual(public.h1, ["Request %s" % rid])
        # Twice: it is no longer mine.
        token = csrf_of(page)
        r = b.post("/account/requests/%s/remove" % rid, [("csrf", token), ("confirm", "1")])
        self.assertErrorPage(r, 404)
        r = b.post("/account/requests/abc/remove", [("csrf", token), ("confirm", "1")])
        self.assertErrorPage(r, 404)
        # The account itself still opens (its key was not shredded).
        self.assertEqual(self.data_json(b)["account"]["email"], email)

    def test_delete_my_account(self):
        """the remainder explained; password again; tombstone, key shredded, sign-in refused, email free"""
        b, email, password, aid = self.new_account(name=canary("name"))
        rid, p = self.file_signed_in(b)
        subject = self.inst.query("SELECT subject_id FROM account WHERE id = ?", (aid,))[0][0]
        page = self.assertPage(b.get("/account/delete"), 200)
        for said in ("What is kept, and why", "public records", "audit log", "legal hold"):
            self.assertIn(said, page.text)
        form = page.form("/account/delete")
        r = b.post("/account/delete", form.submit([("password", "wrong " + password)]))
        self.assertPage(r, 400)
        self.assertTrue(self.signed_in(b))
        old = b.cookie
        form = self.assertPage(b.get("/account/delete"), 200).form("/account/delete")
        r = b.post("/account/delete", form.submit([("password", password)]))
        done = self.assertPage(r, 200)
        self.assertEqual(done.h1, ["Your account was deleted"])
        (name, sid, attrs), = set_cookies(r)
        self.assertNotEqual(sid, old)
        self.assertFalse(self.signed_in(b))
        self.assertFalse(self.signed_in(self.browser(cookie=old)))
        row = self.inst.query("SELECT email_digest, password_hash, sealed, deleted_at FROM "
                              "account WHERE id = ?", (aid,))[0]
        self.assertEqual(row[:3], (None, None, None))
        self.assertIsNotNone(row[3])
        self.assertEqual(self.session_rows(aid), [])
        self.assertEqual(self.inst.query("SELECT wrapped_key IS NULL, erased_at IS NOT NULL "
                                         "FROM subject WHERE id = ?", (subject,))[0], (1, 1))
        self.assertEqual(self.inst.query("SELECT count(*) FROM personal_field WHERE "
                                         "request_id = ?", (rid,))[0][0], 0)
        self.assertPage(self.browser().get("/requests/%s" % rid), 200)
        erase = [e for e in self.audit_bodies("account:%d" % aid) if e["action"] == "erase"]
        self.assertEqual([e.get("request") for e in erase][-1:], [None])
        self.assertIn("data key shredded", erase[-1]["reason"])
        # Sign-in fails as for any unknown email; the email registers anew.
        r = self.signin(self.browser(), email, password, expect=400)
        self.assertEqual(self.assertPage(r, 400).alerts(),
                         ["Please check the form" + GENERIC_SIGNIN])
        b3 = self.browser()
        self.register(b3, email, new_password())
        self.assertNotEqual(self.account_id(email), aid)
        self.assertEqual(self.data_json(b3)["requests"], [])
        self.assertLogClean([email, password])

    def test_delete_under_a_legal_hold_changes_nothing(self):
        """a hold on the account's person: 409, the account and its session stay"""
        b, email, password, aid = self.new_account()
        subject = self.inst.query("SELECT subject_id FROM account WHERE id = ?", (aid,))[0][0]
        self.inst.cli("hold", "place", "--subject", subject, "--reason", "court order 1",
                      "--actor", "privacy_officer")
        try:
            form = self.assertPage(b.get("/account/delete"), 200).form("/account/delete")
            before = self.counts()
            r = b.post("/account/delete", form.submit([("password", password)]))
            self.assertErrorPage(r, 409)
            after = self.counts()
            self.assertEqual(after["account"], before["account"])
            self.assertTrue(self.signed_in(b))
            self.assertIsNone(self.inst.query("SELECT deleted_at FROM account WHERE id = ?",
                                              (aid,))[0][0])
        finally:
            holds = self.inst.query("SELECT id FROM legal_hold WHERE subject_id = ? AND "
                                    "released_at IS NULL", (subject,))
            for (h,) in holds:
                self.inst.cli("hold", "release", "--id", h, "--actor", "privacy_officer")


class AccountPhotos(Accounts):
    def test_my_photos_are_in_my_data_and_mine_only(self):
        """a photo filed from an account: sealed under the account's subject, listed in my data
        (page and JSON: type, size, date, an address for this session), served to it, cleaned;
        a stranger gets 404, and so does another session with this one's address (it has its own)"""
        from test_web_photo import SECRETS, fixtures, multipart, photo_token
        b, email, password, aid = self.new_account()
        (subject,), = self.inst.query("SELECT subject_id FROM account WHERE id = ?", (aid,))
        _, form = self.open_form(b, "DOT-POTHOLE")
        body, ctype = multipart(form.submit(self.fill("DOT-POTHOLE", contact())),
                                [("photo", "p.jpg", "image/jpeg", fixtures()["exif.jpg"])])
        r = b.request("POST", "/report/DOT-POTHOLE", body=body, ctype=ctype)
        review = self.assertPage(r, 200)
        token = photo_token(review.form("/report/DOT-POTHOLE"))
        self.assertEqual(int(token.split("-")[1]), subject, "the photo is the account's")
        rid = int(re.match(r"/requests/(\d+)",
                           self.send(b, "DOT-POTHOLE", review).headers["Location"]).group(1))
        data = self.data_json(b)
        mine = [q for q in data["requests"] if q["service_request_id"] == str(rid)]
        self.assertEqual(len(mine), 1)
        (photo,) = mine[0]["photos"]
        self.assertEqual(photo["content_type"], "image/jpeg")
        self.assertGreater(photo["bytes"], 0)
        self.assertRegex(photo["added_at"], r"^\d{4}-\d\d-\d\dT")
        got = b.get(photo["url"])
        self.assertEqual((got.status, got.ctype), (200, "image/jpeg"), got.describe())
        for s in SECRETS:
            self.assertNotIn(s, got.body)
        page = b.get("/account/data")
        self.assertIn('<img src="%s"' % photo["url"], page.text)
        # Another browser, and the same account signed in elsewhere: no.
        self.assertEqual(self.browser().get(photo["url"]).status, 404)
        other = self.browser()
        self.signin(other, email, password)
        self.assertEqual(other.get(photo["url"]).status, 404)
        # ... but its own page there gives it an address of its own.
        (theirs,) = [q for q in self.data_json(other)["requests"]
                     if q["service_request_id"] == str(rid)][0]["photos"]
        self.assertNotEqual(theirs["url"], photo["url"])
        self.assertEqual(other.get(theirs["url"]).status, 200)

"""
test_cli.py - the command line a city's IT team types (Q4): init makes what it
needs (parent folders too, as `make run` relies on), refuses to clobber a
store, every command has --help, and bad usage exits 2 with a message.
"""
import os
import stat
import subprocess
import unittest

import harness


def run(*args):
    p = subprocess.run([harness.BINARY] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=harness.child_env(), timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    assert not harness.sanitizer_lines(err), err
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


class Cli(unittest.TestCase):
    def setUp(self):
        self.root = os.path.join(harness.session_dir(), "cli-%s" % self._testMethodName)
        os.mkdir(self.root)

    def test_init_creates_missing_parent_folders_private(self):
        """init --data a/b/c makes every folder (0700), as `make run` does with var/demo"""
        data = os.path.join(self.root, "var", "city", "demo")
        code, out, err = run("init", "--data", data, "--demo")
        self.assertEqual(code, 0, err)
        self.assertIn("18 demo services", out)
        for d in (os.path.join(self.root, "var"), data):
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700, d)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(data, "config.json")).st_mode), 0o600)

    def test_init_refuses_an_existing_store_and_keeps_it(self):
        data = os.path.join(self.root, "d")
        self.assertEqual(run("init", "--data", data)[0], 0)
        before = os.stat(os.path.join(data, "civic311.db")).st_size
        code, _, err = run("init", "--data", data, "--demo")
        self.assertEqual(code, 2)
        self.assertIn("already holds a store", err)
        self.assertEqual(os.stat(os.path.join(data, "civic311.db")).st_size, before)

    def test_every_command_has_help(self):
        for cmd in ("init", "serve", "apikey", "services", "requests", "staff"):
            code, out, _ = run(cmd, "--help")
            self.assertEqual(code, 0, cmd)
            self.assertIn("usage: civic311 " + cmd, out)
        self.assertEqual(run("--help")[0], 0)

    def test_bad_usage_exits_2_with_a_message(self):
        data = os.path.join(self.root, "d")
        self.assertEqual(run("init", "--data", data)[0], 0)
        for args in (["frobnicate"], ["init"], ["init", "--data", ""], ["apikey", "create",
                     "--data", data], ["serve", "--data", data, "--threads", "0"],
                     ["serve", "--data", data, "--listen", "nowhere"],
                     ["serve", "--data", os.path.join(self.root, "missing")],
                     ["requests", "update", "--data", data, "--id", "1", "--status", "closed"],
                     ["services", "import", "--data", data, os.path.join(self.root, "none.xml")],
                     ["staff", "add", "--data", data, "--login", "jdoe"],
                     ["staff", "add", "--data", data, "--login", "jdoe", "--role", "mayor"],
                     ["staff", "list", "--data", data, "--login", "jdoe"],
                     ["staff", "explode", "--data", data]):
            code, _, err = run(*args)
            self.assertEqual(code, 2, "%s -> %d\n%s" % (args, code, err))
            self.assertTrue(err.strip(), args)


if __name__ == "__main__":
    unittest.main()

/*
 * test_keyring.c - the key file: create and load, the permission check,
 * every way a file can be malformed (named by line, never quoted), KEK
 * rotation on disk, and the crash leftovers of an atomic rewrite.
 * Each test works in its own temporary directory and removes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "privacy/keyring.h"
#include "util/err.h"

typedef struct {
    char dir[64];
    char path[128]; /* dir/keys */
    char tmp[160];  /* dir/keys.tmp */
} tmpkeys;

static bool tmpkeys_make(tmpkeys *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/civic-keyring-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return false;
    snprintf(t->path, sizeof t->path, "%s/keys", t->dir);
    snprintf(t->tmp, sizeof t->tmp, "%s/keys.tmp", t->dir);
    return true;
}

static void tmpkeys_remove(const tmpkeys *t)
{
    DIR *d = opendir(t->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
}

/* A temp directory with a new key file, loaded; NULL (and nothing left
 * behind) when that fails. */
static keyring_t *tmpkeys_loaded(tmpkeys *t)
{
    err_t e = {0};
    keyring_t *k = NULL;
    if (!tmpkeys_make(t))
        return NULL;
    if (keyring_create(t->path, &e) != ERR_OK || keyring_load(t->path, &k, &e) != ERR_OK) {
        fprintf(stderr, "tmpkeys: %s\n", e.msg);
        tmpkeys_remove(t);
        return NULL;
    }
    return k;
}

static bool write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    ok = close(fd) == 0 && ok;
    return ok && chmod(path, mode) == 0; /* past the umask */
}

/* The whole file, NUL-terminated, in a static buffer (tests are serial). */
static const char *read_text(const char *path)
{
    static char buf[8192];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void hex(char *out, const unsigned char *bin, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, bin, n);
}

static void test_create_load(void)
{
    tmpkeys t;
    REQUIRE(tmpkeys_make(&t));
    err_t e;
    CHECK_INT(keyring_create(t.path, &e), ERR_OK);
    struct stat st;
    REQUIRE(stat(t.path, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK(!exists(t.tmp));
    const char *text = read_text(t.path);
    REQUIRE(text != NULL);
    CHECK(strncmp(text, "civic311-keys 1\n", 16) == 0);

    keyring_t *k = NULL, *k2 = NULL;
    REQUIRE(keyring_load(t.path, &k, &e) == ERR_OK);
    CHECK_STR(keyring_path(k), t.path);
    CHECK_INT(keyring_kek_current(k), 1);
    int v[KEYRING_MAX_KEKS];
    CHECK_INT(keyring_kek_versions(k, v, KEYRING_MAX_KEKS), 1);
    CHECK_INT(v[0], 1);
    CHECK(keyring_kek_borrow(k, 1) != NULL);
    CHECK(keyring_kek_borrow(k, 0) == NULL);
    CHECK(keyring_kek_borrow(k, 2) == NULL);
    CHECK(keyring_blind_key_borrow(k) != NULL);

    /* A second load reads the same keys, and the keys differ from each
     * other (not all zero, not one key copied into every slot). */
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK(memcmp(keyring_kek_borrow(k, 1), keyring_kek_borrow(k2, 1), KEYRING_KEY_LEN) == 0);
    CHECK(memcmp(keyring_blind_key_borrow(k), keyring_blind_key_borrow(k2), KEYRING_KEY_LEN) == 0);
    CHECK(memcmp(keyring_sign_sk_borrow(k), keyring_sign_sk_borrow(k2), KEYRING_SIGN_SK_LEN) == 0);
    CHECK(memcmp(keyring_kek_borrow(k, 1), keyring_blind_key_borrow(k), KEYRING_KEY_LEN) != 0);
    CHECK(!sodium_is_zero(keyring_kek_borrow(k, 1), KEYRING_KEY_LEN));
    keyring_free(k2);
    keyring_free(k);
    keyring_free(NULL);

    /* Two key files are two sets of keys. */
    char other[160];
    snprintf(other, sizeof other, "%s/other", t.dir);
    CHECK_INT(keyring_create(other, &e), ERR_OK);
    REQUIRE(keyring_load(t.path, &k, &e) == ERR_OK);
    REQUIRE(keyring_load(other, &k2, &e) == ERR_OK);
    CHECK(memcmp(keyring_kek_borrow(k, 1), keyring_kek_borrow(k2, 1), KEYRING_KEY_LEN) != 0);
    keyring_free(k2);
    keyring_free(k);

    CHECK_INT(keyring_load(t.dir, &k, &e), ERR_INVALID); /* a directory */
    CHECK(k == NULL);
    tmpkeys_remove(&t);
}

static void test_create_refuses_existing(void)
{
    tmpkeys t;
    REQUIRE(tmpkeys_make(&t));
    err_t e;
    REQUIRE(keyring_create(t.path, &e) == ERR_OK);
    char before[8192];
    snprintf(before, sizeof before, "%s", read_text(t.path));
    CHECK_INT(keyring_create(t.path, &e), ERR_CONFLICT);
    CHECK(strstr(e.msg, "exists") != NULL);
    CHECK_STR(read_text(t.path), before);

    /* Whatever is there, even an empty file or a dangling symlink. */
    char empty[160], link_path[160];
    snprintf(empty, sizeof empty, "%s/empty", t.dir);
    REQUIRE(write_file(empty, "", 0600));
    CHECK_INT(keyring_create(empty, &e), ERR_CONFLICT);
    CHECK_STR(read_text(empty), "");
    snprintf(link_path, sizeof link_path, "%s/dangling", t.dir);
    REQUIRE(symlink("/nonexistent/civic-keys", link_path) == 0);
    CHECK_INT(keyring_create(link_path, &e), ERR_CONFLICT);

    /* No directory: not created here. */
    char nodir[200];
    snprintf(nodir, sizeof nodir, "%s/missing/keys", t.dir);
    CHECK_INT(keyring_create(nodir, &e), ERR_IO);
    tmpkeys_remove(&t);
}

static void test_mode_refused(void)
{
    tmpkeys t;
    REQUIRE(tmpkeys_make(&t));
    err_t e;
    keyring_t *k = NULL;
    REQUIRE(keyring_create(t.path, &e) == ERR_OK);
    const mode_t bad[] = {0644, 0640, 0604, 0660, 0602, 0620, 0606, 0700 | 0070};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(chmod(t.path, bad[i]) == 0);
        CHECK_INT(keyring_load(t.path, &k, &e), ERR_FORBIDDEN);
        CHECK(k == NULL);
        CHECK(strstr(e.msg, "chmod 600") != NULL);
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", (unsigned)bad[i]);
        CHECK(strstr(e.msg, mode) != NULL);
    }
    REQUIRE(chmod(t.path, 0400) == 0); /* owner-only read-only is fine */
    CHECK_INT(keyring_load(t.path, &k, &e), ERR_OK);
    keyring_free(k);
    REQUIRE(chmod(t.path, 0600) == 0);
    CHECK_INT(keyring_load(t.path, &k, &e), ERR_OK);
    keyring_free(k);

    char missing[160];
    snprintf(missing, sizeof missing, "%s/none", t.dir);
    CHECK_INT(keyring_load(missing, &k, &e), ERR_NOT_FOUND);
    tmpkeys_remove(&t);
}

/* Well-formed lines made from fresh keys, to build files from. */
typedef struct {
    char kek1[100], kek2[100], blind[80], sign[140];
    char kek1_hex[65], kek2_hex[65], blind_hex[65], sign_hex[129];
} good_lines;

static void make_good_lines(good_lines *g)
{
    unsigned char key[32], pk[32], sk[64];
    randombytes_buf(key, sizeof key);
    hex(g->kek1_hex, key, sizeof key);
    randombytes_buf(key, sizeof key);
    hex(g->kek2_hex, key, sizeof key);
    randombytes_buf(key, sizeof key);
    hex(g->blind_hex, key, sizeof key);
    crypto_sign_keypair(pk, sk);
    hex(g->sign_hex, sk, sizeof sk);
    snprintf(g->kek1, sizeof g->kek1, "kek 1 1700000000 %s\n", g->kek1_hex);
    snprintf(g->kek2, sizeof g->kek2, "kek 2 1700000100 %s\n", g->kek2_hex);
    snprintf(g->blind, sizeof g->blind, "blind %s\n", g->blind_hex);
    snprintf(g->sign, sizeof g->sign, "sign %s\n", g->sign_hex);
}

/* No 12-hex-digit run of any key may appear in a message. */
static bool msg_has_key(const char *msg, const good_lines *g)
{
    const char *keys[] = {g->kek1_hex, g->kek2_hex, g->blind_hex, g->sign_hex};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i]);
        for (size_t at = 0; at + 12 <= n; at += 4) {
            char piece[13];
            memcpy(piece, keys[i] + at, 12);
            piece[12] = '\0';
            if (strstr(msg, piece) != NULL)
                return true;
        }
    }
    return false;
}

static void test_malformed(void)
{
    tmpkeys t;
    REQUIRE(tmpkeys_make(&t));
    good_lines g;
    make_good_lines(&g);
    char text[2048];
    err_t e;
    keyring_t *k = NULL;

    /* The good file, with comments, blank lines, CRLF and the KEKs out of
     * order, loads. */
    snprintf(text, sizeof text,
             "civic311-keys 1\n# keys\n\n   \n  # indented comment\n%s%s\t\nsign %s\r\n%s", g.kek2,
             g.blind, g.sign_hex, g.kek1);
    REQUIRE(write_file(t.path, text, 0600));
    REQUIRE(keyring_load(t.path, &k, &e) == ERR_OK);
    int v[KEYRING_MAX_KEKS];
    CHECK_INT(keyring_kek_versions(k, v, KEYRING_MAX_KEKS), 2);
    CHECK(v[0] == 1 && v[1] == 2);
    CHECK_INT(keyring_kek_current(k), 2);
    char got[129];
    hex(got, keyring_kek_borrow(k, 1), 32);
    CHECK_STR(got, g.kek1_hex);
    hex(got, keyring_kek_borrow(k, 2), 32);
    CHECK_STR(got, g.kek2_hex);
    hex(got, keyring_blind_key_borrow(k), 32);
    CHECK_STR(got, g.blind_hex);
    hex(got, keyring_sign_sk_borrow(k), 64);
    CHECK_STR(got, g.sign_hex);
    keyring_free(k);

    /* The last line without its LF loads too. */
    snprintf(text, sizeof text, "civic311-keys 1\n%s%ssign %s", g.kek1, g.blind, g.sign_hex);
    REQUIRE(write_file(t.path, text, 0600));
    CHECK_INT(keyring_load(t.path, &k, &e), ERR_OK);
    keyring_free(k);

    char bad_sign[129], short_hex[64], upper[65], nonhex[65];
    snprintf(bad_sign, sizeof bad_sign, "%s", g.sign_hex);
    bad_sign[127] = bad_sign[127] == '0' ? '1' : '0'; /* public half altered */
    snprintf(short_hex, sizeof short_hex, "%.63s", g.kek1_hex);
    snprintf(upper, sizeof upper, "%s", g.blind_hex);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(nonhex, sizeof nonhex, "%s", g.kek1_hex);
    nonhex[10] = 'g';

    struct {
        const char *fmt;  /* %1$s kek1, %2$s kek2, %3$s blind, %4$s sign; or a literal */
        const char *want; /* in the message; NULL: the test checks ERR_OK */
        const char *a, *b, *c, *d;
    } cases[] = {
        {"", "line 1", NULL, NULL, NULL, NULL},
        {"civic311-keys 2\n%s%s%s", "line 1", g.kek1, g.blind, g.sign, NULL},
        {"civic311-keys\n%s%s%s", "line 1", g.kek1, g.blind, g.sign, NULL},
        {"# a comment first\ncivic311-keys 1\n%s%s%s", "line 1", g.kek1, g.blind, g.sign, NULL},
        {"%s%s%s", "line 1", g.kek1, g.blind, g.sign, NULL},
        {"civic311-keys 1\n%s%s%sfoo bar\n", "line 5", g.kek1, g.blind, g.sign, NULL},
        {"civic311-keys 1\n%s%sKEK canary-secret-xyz\n%s", "line 4", g.kek1, g.blind, g.sign, NULL},
        {"civic311-keys 1\n%s%s%s%s", "line 5", g.kek1, g.blind, g.sign, g.blind},
        {"civic311-keys 1\n%s%s%s%s", "line 5", g.kek1, g.blind, g.sign, g.sign},
        {"civic311-keys 1\n%s%s%s%s", "line 5", g.kek1, g.blind, g.sign, g.kek1},
        {"civic311-keys 1\n%s%s", "sign", g.kek1, g.blind, NULL, NULL},
        {"civic311-keys 1\n%s%s", "blind", g.kek1, g.sign, NULL, NULL},
        {"civic311-keys 1\n%s%s", "kek", g.blind, g.sign, NULL, NULL},
        {"civic311-keys 1\n", "kek", NULL, NULL, NULL, NULL},
        {"civic311-keys 1\nkek 1 1700000000 %s\n%s%s", "line 2", short_hex, g.blind, g.sign, NULL},
        {"civic311-keys 1\nkek 1 1700000000 %s\n%s%s", "line 2", nonhex, g.blind, g.sign, NULL},
        {"civic311-keys 1\n%s%ssign %s\n", "line 4", g.kek1, g.blind, bad_sign, NULL},
        {"civic311-keys 1\n%s%ssign %s\n", "line 4", g.kek1, g.blind, g.blind_hex, NULL},
        {"civic311-keys 1\n%sblind %s 1\n%s", "line 3", g.kek1, g.blind_hex, g.sign, NULL},
        {"civic311-keys 1\nkek 1 1700000000 %s 7\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign,
         NULL},
        {"civic311-keys 1\nkek 1 %s\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign, NULL},
        {"civic311-keys 1\nkek 0 1700000000 %s\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign, NULL},
        {"civic311-keys 1\nkek -1 1700000000 %s\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign,
         NULL},
        {"civic311-keys 1\nkek 2147483648 1700000000 %s\n%s%s", "line 2", g.kek1_hex, g.blind,
         g.sign, NULL},
        {"civic311-keys 1\nkek x 1700000000 %s\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign, NULL},
        {"civic311-keys 1\nkek 1 soon %s\n%s%s", "line 2", g.kek1_hex, g.blind, g.sign, NULL},
        /* Upper-case hex is hex. */
        {"civic311-keys 1\n%sblind %s\n%s", NULL, g.kek1, upper, g.sign, NULL},
        {"civic311-keys 1\n%s%s%s", NULL, g.kek1, g.blind, g.sign, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, cases[i].fmt, cases[i].a, cases[i].b, cases[i].c, cases[i].d);
        REQUIRE(write_file(t.path, text, 0600));
        k = NULL;
        memset(&e, 0, sizeof e);
        err_code rc = keyring_load(t.path, &k, &e);
        if (cases[i].want == NULL) {
            if (rc != ERR_OK)
                fprintf(stderr, "case %zu: %s\n", i, e.msg);
            CHECK_INT(rc, ERR_OK);
            keyring_free(k);
            continue;
        }
        if (rc != ERR_INVALID || strstr(e.msg, cases[i].want) == NULL)
            fprintf(stderr, "case %zu: rc %d, message \"%s\", want \"%s\"\n", i, rc, e.msg,
                    cases[i].want);
        CHECK_INT(rc, ERR_INVALID);
        CHECK(k == NULL);
        CHECK(strstr(e.msg, cases[i].want) != NULL);
        CHECK(!msg_has_key(e.msg, &g));
        CHECK(strstr(e.msg, "canary") == NULL);
        keyring_free(k);
    }

    /* More KEKs than a file may hold. */
    size_t n = (size_t)snprintf(text, sizeof text, "civic311-keys 1\n%s%s", g.blind, g.sign);
    for (int i = 1; i <= KEYRING_MAX_KEKS + 1; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "kek %d 1700000000 %s\n", i, g.kek1_hex);
    REQUIRE(n < sizeof text);
    REQUIRE(write_file(t.path, text, 0600));
    CHECK_INT(keyring_load(t.path, &k, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "line 12") != NULL);

    /* A NUL byte in a line. */
    int fd = open(t.path, O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    n = (size_t)snprintf(text, sizeof text, "civic311-keys 1\n%s%s%s", g.kek1, g.blind, g.sign);
    text[20] = '\0';
    CHECK(write(fd, text, n) == (ssize_t)n);
    close(fd);
    CHECK_INT(keyring_load(t.path, &k, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "line 2") != NULL);
    CHECK(!msg_has_key(e.msg, &g));
    tmpkeys_remove(&t);
}

static void test_rotation(void)
{
    tmpkeys t;
    keyring_t *k = tmpkeys_loaded(&t), *k2 = NULL;
    REQUIRE(k != NULL);
    err_t e;
    unsigned char kek1[KEYRING_KEY_LEN], blind[KEYRING_KEY_LEN], sk[KEYRING_SIGN_SK_LEN];
    memcpy(kek1, keyring_kek_borrow(k, 1), sizeof kek1);
    memcpy(blind, keyring_blind_key_borrow(k), sizeof blind);
    memcpy(sk, keyring_sign_sk_borrow(k), sizeof sk);

    int version = 0;
    CHECK_INT(keyring_add_kek(k, &version, &e), ERR_OK);
    CHECK_INT(version, 2);
    CHECK_INT(keyring_kek_current(k), 2);
    CHECK(!exists(t.tmp));
    struct stat st;
    REQUIRE(stat(t.path, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0600);

    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    int v[KEYRING_MAX_KEKS];
    CHECK_INT(keyring_kek_versions(k2, v, KEYRING_MAX_KEKS), 2);
    CHECK(v[0] == 1 && v[1] == 2);
    CHECK_INT(keyring_kek_current(k2), 2);
    CHECK_INT(keyring_kek_versions(k2, v, 1), 1); /* max respected */
    CHECK(memcmp(keyring_kek_borrow(k2, 1), kek1, sizeof kek1) == 0);
    CHECK(memcmp(keyring_kek_borrow(k2, 2), keyring_kek_borrow(k, 2), KEYRING_KEY_LEN) == 0);
    CHECK(memcmp(keyring_kek_borrow(k2, 2), kek1, sizeof kek1) != 0);
    CHECK(memcmp(keyring_blind_key_borrow(k2), blind, sizeof blind) == 0);
    CHECK(memcmp(keyring_sign_sk_borrow(k2), sk, sizeof sk) == 0);
    keyring_free(k2);

    /* Drop: only the current one is left, in memory and on disk. */
    unsigned char kek2[KEYRING_KEY_LEN];
    memcpy(kek2, keyring_kek_borrow(k, 2), sizeof kek2);
    CHECK_INT(keyring_drop_old_keks(k, &e), ERR_OK);
    CHECK_INT(keyring_kek_versions(k, v, KEYRING_MAX_KEKS), 1);
    CHECK_INT(v[0], 2);
    CHECK(keyring_kek_borrow(k, 1) == NULL);
    CHECK(memcmp(keyring_kek_borrow(k, 2), kek2, sizeof kek2) == 0);
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK_INT(keyring_kek_versions(k2, v, KEYRING_MAX_KEKS), 1);
    CHECK_INT(v[0], 2);
    CHECK_INT(keyring_kek_current(k2), 2);
    CHECK(keyring_kek_borrow(k2, 1) == NULL);
    CHECK(memcmp(keyring_kek_borrow(k2, 2), kek2, sizeof kek2) == 0);
    CHECK(memcmp(keyring_blind_key_borrow(k2), blind, sizeof blind) == 0);
    CHECK(memcmp(keyring_sign_sk_borrow(k2), sk, sizeof sk) == 0);
    keyring_free(k2);
    char kek1_hex[65];
    hex(kek1_hex, kek1, sizeof kek1);
    CHECK(strstr(read_text(t.path), kek1_hex) == NULL); /* gone from the file */
    CHECK_INT(keyring_drop_old_keks(k, &e), ERR_OK);    /* nothing to drop */

    /* Versions go on from the current one, up to the limit. */
    for (int want = 3; want <= KEYRING_MAX_KEKS + 1; want++) {
        CHECK_INT(keyring_add_kek(k, &version, &e), ERR_OK);
        CHECK_INT(version, want);
    }
    char before[8192];
    snprintf(before, sizeof before, "%s", read_text(t.path));
    CHECK_INT(keyring_add_kek(k, &version, &e), ERR_TOO_LARGE);
    CHECK_STR(read_text(t.path), before);
    CHECK_INT(keyring_kek_current(k), KEYRING_MAX_KEKS + 1);
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK_INT(keyring_kek_versions(k2, v, KEYRING_MAX_KEKS), KEYRING_MAX_KEKS);
    CHECK(v[0] == 2 && v[KEYRING_MAX_KEKS - 1] == KEYRING_MAX_KEKS + 1);
    keyring_free(k2);
    CHECK_INT(keyring_drop_old_keks(k, &e), ERR_OK);
    CHECK_INT(keyring_kek_versions(k, v, KEYRING_MAX_KEKS), 1);
    CHECK_INT(v[0], KEYRING_MAX_KEKS + 1);
    CHECK(keyring_kek_borrow(k, 2) == NULL);
    CHECK_INT(keyring_add_kek(k, NULL, &e), ERR_OK); /* version may be NULL */
    CHECK_INT(keyring_kek_current(k), KEYRING_MAX_KEKS + 2);
    keyring_free(k);
    tmpkeys_remove(&t);
}

static void test_write_failure_keeps_memory(void)
{
    tmpkeys t;
    keyring_t *k = tmpkeys_loaded(&t);
    REQUIRE(k != NULL);
    err_t e;
    /* keys.tmp is a directory, which the rewrite cannot remove: it fails
     * before the rename, so the new KEK must not exist in memory either
     * (it would wrap data keys under a KEK no file holds). */
    REQUIRE(mkdir(t.tmp, 0700) == 0);
    int version = 0;
    CHECK_INT(keyring_add_kek(k, &version, &e), ERR_IO);
    CHECK(strstr(e.msg, "keys.tmp") != NULL);
    CHECK_INT(version, 0);
    CHECK_INT(keyring_kek_current(k), 1);
    CHECK(keyring_kek_borrow(k, 2) == NULL);
    keyring_t *k2 = NULL;
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK_INT(keyring_kek_current(k2), 1);
    keyring_free(k2);
    REQUIRE(rmdir(t.tmp) == 0);
    CHECK_INT(keyring_add_kek(k, NULL, &e), ERR_OK);
    CHECK_INT(keyring_kek_current(k), 2);
    keyring_free(k);
    tmpkeys_remove(&t);
}

static void test_stale_tmp(void)
{
    tmpkeys t;
    REQUIRE(tmpkeys_make(&t));
    err_t e;
    keyring_t *k = NULL, *k2 = NULL;

    /* A crash left keys.tmp before the first create: create still works. */
    REQUIRE(write_file(t.tmp, "half a fi", 0644));
    CHECK_INT(keyring_create(t.path, &e), ERR_OK);
    CHECK(!exists(t.tmp));
    REQUIRE(keyring_load(t.path, &k, &e) == ERR_OK);

    /* And before a rewrite; loading ignores it meanwhile. */
    REQUIRE(write_file(t.tmp, "civic311-keys 1\ngarbage\n", 0600));
    CHECK_INT(keyring_load(t.path, &k2, &e), ERR_OK);
    keyring_free(k2);
    int version = 0;
    CHECK_INT(keyring_add_kek(k, &version, &e), ERR_OK);
    CHECK_INT(version, 2);
    CHECK(!exists(t.tmp));
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK_INT(keyring_kek_current(k2), 2);
    keyring_free(k2);

    /* A symlink planted as keys.tmp is removed, not followed. */
    char target[160];
    snprintf(target, sizeof target, "%s/target", t.dir);
    REQUIRE(write_file(target, "untouched", 0600));
    REQUIRE(symlink(target, t.tmp) == 0);
    CHECK_INT(keyring_drop_old_keks(k, &e), ERR_OK);
    CHECK_STR(read_text(target), "untouched");
    CHECK(!exists(t.tmp));
    REQUIRE(keyring_load(t.path, &k2, &e) == ERR_OK);
    CHECK_INT(keyring_kek_current(k2), 2);
    CHECK(keyring_kek_borrow(k2, 1) == NULL);
    keyring_free(k2);
    keyring_free(k);
    tmpkeys_remove(&t);
}

static void test_dropped_version_is_null(void)
{
    tmpkeys t;
    keyring_t *k = tmpkeys_loaded(&t);
    REQUIRE(k != NULL);
    err_t e;
    REQUIRE(keyring_add_kek(k, NULL, &e) == ERR_OK);
    REQUIRE(keyring_add_kek(k, NULL, &e) == ERR_OK);
    CHECK(keyring_kek_borrow(k, 1) != NULL && keyring_kek_borrow(k, 2) != NULL);
    REQUIRE(keyring_drop_old_keks(k, &e) == ERR_OK);
    CHECK(keyring_kek_borrow(k, 1) == NULL);
    CHECK(keyring_kek_borrow(k, 2) == NULL);
    CHECK(keyring_kek_borrow(k, 3) != NULL);
    CHECK(keyring_kek_borrow(k, 4) == NULL);
    CHECK(keyring_kek_borrow(k, -1) == NULL);
    keyring_free(k);
    tmpkeys_remove(&t);
}

static void test_sign_key(void)
{
    tmpkeys t;
    keyring_t *k = tmpkeys_loaded(&t);
    REQUIRE(k != NULL);
    unsigned char pk[KEYRING_SIGN_PK_LEN], sig[crypto_sign_BYTES];
    keyring_sign_pk(k, pk);
    const unsigned char msg[] = "checkpoint 42";
    CHECK(crypto_sign_detached(sig, NULL, msg, sizeof msg, keyring_sign_sk_borrow(k)) == 0);
    CHECK(crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0);
    sig[0] ^= 1;
    CHECK(crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0);
    keyring_free(k);
    tmpkeys_remove(&t);
}

TEST_MAIN(TEST(test_create_load), TEST(test_create_refuses_existing), TEST(test_mode_refused),
          TEST(test_malformed), TEST(test_rotation), TEST(test_write_failure_keeps_memory),
          TEST(test_stale_tmp), TEST(test_dropped_version_is_null), TEST(test_sign_key))

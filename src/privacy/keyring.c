/*
 * keyring.c - the key file. See keyring.h.
 *
 * Owns the key file on disk (its format, its permissions, every rewrite of
 * it) and, while it is loaded, the secrets it holds: one sodium_malloc'd
 * block (guard pages, locked, zeroed when freed), read-only except while
 * this file changes it. Never puts a secret, or any text read from the
 * file, in an error message or a log: errors name a line number.
 *
 * The format, version 1: a text file of LF-terminated lines.
 *
 *     civic311-keys 1
 *     # a comment: a line whose first non-blank character is '#'
 *     kek <version> <created> <64 hex digits>
 *     blind <64 hex digits>
 *     sign <128 hex digits>
 *
 *   - The first line is the header, exactly as shown. A later format gets
 *     a new number; this code refuses a number it does not know rather
 *     than guess at a file that holds every key.
 *   - kek: a key-encryption key. <version> is a decimal 1..INT_MAX, unique
 *     in the file; <created> the Unix time it was added. 1 to
 *     KEYRING_MAX_KEKS lines, in any order; the highest version is current.
 *   - blind: the blind-index key, exactly once.
 *   - sign: the audit log's Ed25519 secret key in libsodium's layout (the
 *     32-byte seed, then the 32-byte public key), exactly once. The public
 *     half must be the one the seed gives, so a damaged line is caught
 *     here rather than as unverifiable audit checkpoints later.
 *   - Fields are separated by spaces or tabs; blank lines are ignored; a
 *     CR before the LF is tolerated (a file touched by a Windows editor).
 *     Hex digits may be either case.
 *
 * What this file writes: the header, a comment, the KEKs in ascending
 * version order, blind, sign. Mode 0600 on every write.
 */
#include "privacy/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(KEYRING_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "sign public key length");
_Static_assert(KEYRING_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES, "sign secret key length");
_Static_assert(KEYRING_SIGN_SK_LEN == crypto_sign_SEEDBYTES + crypto_sign_PUBLICKEYBYTES,
               "libsodium's Ed25519 secret key is seed || public key");

#define KEYRING_HEADER "civic311-keys 1"
#define KEYRING_FILE_MAX (64 * 1024) /* far above any real file; bounds the read */
#define KEYRING_TEXT_MAX 2048        /* what keyring_render writes, with room to spare */

/* Every secret, in one block so one sodium_malloc guards them all. */
typedef struct {
    unsigned char kek[KEYRING_MAX_KEKS][KEYRING_KEY_LEN];
    unsigned char blind[KEYRING_KEY_LEN];
    unsigned char sign_sk[KEYRING_SIGN_SK_LEN];
} keyring_secrets;

struct keyring {
    char *path;                        /* owned (malloc) */
    size_t nkek;                       /* 1..KEYRING_MAX_KEKS once loaded */
    int kek_version[KEYRING_MAX_KEKS]; /* ascending; sec->kek[i] is version kek_version[i] */
    int64_t kek_created[KEYRING_MAX_KEKS];
    keyring_secrets *sec; /* owned (sodium_malloc) */
};

/* ---- the object ---- */

static keyring_t *keyring_alloc(const char *path, err_t *err)
{
    keyring_t *k = calloc(1, sizeof *k);
    if (k == NULL)
        goto nomem;
    k->path = strdup(path);
    k->sec = sodium_malloc(sizeof *k->sec);
    if (k->path == NULL || k->sec == NULL)
        goto nomem;
    sodium_memzero(k->sec, sizeof *k->sec); /* sodium_malloc fills with a canary pattern */
    return k;
nomem:
    keyring_free(k);
    err_set(err, ERR_NOMEM, "out of memory for the key file");
    return NULL;
}

void keyring_free(keyring_t *k)
{
    if (k == NULL)
        return;
    if (k->sec != NULL)
        sodium_free(k->sec); /* zeroes, even when read-only */
    free(k->path);
    free(k);
}

/* Read-only is a guard against a stray write through a borrowed pointer;
 * if the kernel refuses, the keys are as safe as in any heap memory, so it
 * is not worth failing for. */
static void keyring_seal_memory(keyring_t *k)
{
    (void)sodium_mprotect_readonly(k->sec);
}

static err_code keyring_unseal_memory(keyring_t *k, err_t *err)
{
    if (sodium_mprotect_readwrite(k->sec) != 0)
        return err_set(err, ERR_INTERNAL, "cannot make the key memory writable: %s",
                       strerror(errno));
    return ERR_OK;
}

const char *keyring_path(const keyring_t *k)
{
    return k->path;
}

int keyring_kek_current(const keyring_t *k)
{
    return k->kek_version[k->nkek - 1];
}

const unsigned char *keyring_kek_borrow(const keyring_t *k, int version)
{
    for (size_t i = 0; i < k->nkek; i++)
        if (k->kek_version[i] == version)
            return k->sec->kek[i];
    return NULL;
}

size_t keyring_kek_versions(const keyring_t *k, int *versions, size_t max)
{
    size_t n = k->nkek < max ? k->nkek : max;
    for (size_t i = 0; i < n; i++)
        versions[i] = k->kek_version[i];
    return n;
}

const unsigned char *keyring_blind_key_borrow(const keyring_t *k)
{
    return k->sec->blind;
}

const unsigned char *keyring_sign_sk_borrow(const keyring_t *k)
{
    return k->sec->sign_sk;
}

void keyring_sign_pk(const keyring_t *k, unsigned char out[KEYRING_SIGN_PK_LEN])
{
    crypto_sign_ed25519_sk_to_pk(out, k->sec->sign_sk);
}

/* ---- reading ---- */

/* Reads the whole file into sodium_malloc'd memory (it is all key
 * material), after checking that it is a regular file only its owner can
 * touch. *text is NUL-terminated; the caller sodium_free()s it. */
static err_code keyring_read_file(const char *path, char **text, size_t *len, err_t *err)
{
    *text = NULL;
    *len = 0;
    err_code rc = ERR_OK;
    char *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return err_set(err, ERR_NOT_FOUND, "no key file at %s", path);
        return err_set(err, ERR_IO, "cannot open key file %s: %s", path, strerror(errno));
    }
    /* fstat, not stat: the checks must be about the file we read. */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, ERR_IO, "cannot stat key file %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_set(err, ERR_INVALID, "key file %s is not a regular file", path);
        goto done;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc =
            err_set(err, ERR_FORBIDDEN,
                    "key file %s has mode %04o: group or others may access it; run chmod 600 on it",
                    path, (unsigned)(st.st_mode & 07777));
        goto done;
    }
    if (st.st_size > KEYRING_FILE_MAX) {
        rc = err_set(err, ERR_TOO_LARGE, "key file %s is larger than %d bytes", path,
                     KEYRING_FILE_MAX);
        goto done;
    }
    size_t want = (size_t)st.st_size;
    data = sodium_malloc(want + 1);
    if (data == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory reading the key file");
        goto done;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, data + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(err, ERR_IO, "cannot read key file %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break; /* shrank under us: parse what is there, it is checked like any other */
        got += (size_t)n;
    }
    data[got] = '\0';
    *text = data;
    *len = got;
    data = NULL;
done:
    if (data != NULL)
        sodium_free(data);
    close(fd);
    return rc;
}

/* A strict unsigned decimal: digits only, no sign, no blanks. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
    if (*s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Decodes exactly n bytes of hex into out. Says which way it failed, so
 * the message can be specific without quoting the token. */
typedef enum { HEX_OK, HEX_BAD_LENGTH, HEX_BAD_DIGIT } hex_result;

static hex_result parse_hex(const char *tok, unsigned char *out, size_t n)
{
    size_t len = strlen(tok);
    if (len != 2 * n)
        return HEX_BAD_LENGTH;
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(out, n, tok, len, NULL, &bin_len, &end) != 0 || bin_len != n ||
        end != tok + len)
        return HEX_BAD_DIGIT;
    return HEX_OK;
}

static err_code hex_error(err_t *err, size_t line, const char *what, size_t n, hex_result r)
{
    if (r == HEX_BAD_LENGTH)
        return err_set(err, ERR_INVALID, "key file line %zu: the %s must be %zu hex digits", line,
                       what, 2 * n);
    return err_set(err, ERR_INVALID, "key file line %zu: the %s is not hexadecimal", line, what);
}

#define MAX_FIELDS 4

/* Splits a line in place on spaces and tabs. Returns the number of fields,
 * or MAX_FIELDS + 1 if there are more than MAX_FIELDS. */
static size_t split_fields(char *line, char *field[MAX_FIELDS])
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return n;
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        field[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (*p != '\0')
            *p++ = '\0';
    }
}

/* Parser state beyond what goes into the keyring: where each key was
 * seen, to name both lines of a duplicate. */
typedef struct {
    size_t kek_line[KEYRING_MAX_KEKS]; /* parallel to k->kek_version */
    size_t blind_line, sign_line;      /* 0: not seen */
} parse_state;

static err_code parse_kek(keyring_t *k, parse_state *ps, size_t line, char **f, size_t nf,
                          err_t *err)
{
    if (nf != 4)
        return err_set(err, ERR_INVALID,
                       "key file line %zu: a kek line has the form: kek <version> <created> <hex>",
                       line);
    uint64_t version, created;
    if (!parse_decimal(f[1], INT_MAX, &version) || version == 0)
        return err_set(err, ERR_INVALID, "key file line %zu: the kek version must be 1 to %d", line,
                       INT_MAX);
    if (!parse_decimal(f[2], INT64_MAX, &created))
        return err_set(err, ERR_INVALID,
                       "key file line %zu: the kek creation time must be a Unix time", line);
    /* Keep the arrays sorted as we go: find the slot, refuse a duplicate. */
    size_t at = 0;
    while (at < k->nkek && k->kek_version[at] < (int)version)
        at++;
    if (at < k->nkek && k->kek_version[at] == (int)version)
        return err_set(err, ERR_INVALID,
                       "key file line %zu: a second kek with the version of line %zu", line,
                       ps->kek_line[at]);
    if (k->nkek == KEYRING_MAX_KEKS)
        return err_set(err, ERR_INVALID, "key file line %zu: more than %d kek lines", line,
                       KEYRING_MAX_KEKS);
    /* Shift inside the guarded block: no copy of a key leaves it. */
    size_t tail = k->nkek - at;
    unsigned char *keks = (unsigned char *)k->sec->kek; /* the whole array, as bytes */
    memmove(keks + (at + 1) * KEYRING_KEY_LEN, keks + at * KEYRING_KEY_LEN, tail * KEYRING_KEY_LEN);
    memmove(&k->kek_version[at + 1], &k->kek_version[at], tail * sizeof k->kek_version[0]);
    memmove(&k->kek_created[at + 1], &k->kek_created[at], tail * sizeof k->kek_created[0]);
    memmove(&ps->kek_line[at + 1], &ps->kek_line[at], tail * sizeof ps->kek_line[0]);
    k->nkek++;
    k->kek_version[at] = (int)version;
    k->kek_created[at] = (int64_t)created;
    ps->kek_line[at] = line;
    hex_result r = parse_hex(f[3], k->sec->kek[at], KEYRING_KEY_LEN);
    if (r != HEX_OK)
        return hex_error(err, line, "key-encryption key", KEYRING_KEY_LEN, r);
    return ERR_OK;
}

static err_code parse_blind(keyring_t *k, parse_state *ps, size_t line, char **f, size_t nf,
                            err_t *err)
{
    if (nf != 2)
        return err_set(err, ERR_INVALID,
                       "key file line %zu: a blind line has the form: blind <hex>", line);
    if (ps->blind_line != 0)
        return err_set(err, ERR_INVALID, "key file line %zu: a second blind key (after line %zu)",
                       line, ps->blind_line);
    ps->blind_line = line;
    hex_result r = parse_hex(f[1], k->sec->blind, KEYRING_KEY_LEN);
    if (r != HEX_OK)
        return hex_error(err, line, "blind-index key", KEYRING_KEY_LEN, r);
    return ERR_OK;
}

static err_code parse_sign(keyring_t *k, parse_state *ps, size_t line, char **f, size_t nf,
                           err_t *err)
{
    if (nf != 2)
        return err_set(err, ERR_INVALID, "key file line %zu: a sign line has the form: sign <hex>",
                       line);
    if (ps->sign_line != 0)
        return err_set(err, ERR_INVALID, "key file line %zu: a second sign key (after line %zu)",
                       line, ps->sign_line);
    ps->sign_line = line;
    hex_result r = parse_hex(f[1], k->sec->sign_sk, KEYRING_SIGN_SK_LEN);
    if (r != HEX_OK)
        return hex_error(err, line, "signing key", KEYRING_SIGN_SK_LEN, r);
    /* The public half must be the seed's: rebuild the pair and compare. */
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_ed25519_sk_to_seed(seed, k->sec->sign_sk);
    int bad = crypto_sign_seed_keypair(pk, sk, seed) != 0 ||
              sodium_memcmp(pk, k->sec->sign_sk + crypto_sign_SEEDBYTES, sizeof pk) != 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    if (bad)
        return err_set(err, ERR_INVALID,
                       "key file line %zu: the sign key's public half does not match its seed",
                       line);
    return ERR_OK;
}

static err_code keyring_parse(keyring_t *k, char *text, size_t len, err_t *err)
{
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    if (len == 0)
        return err_set(err, ERR_INVALID, "key file line 1: the file is empty");
    char *p = text, *end = text + len;
    size_t line = 0;
    while (p < end) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl != NULL ? nl : end;
        *eol = '\0'; /* text[len] is the reader's NUL, so this is in bounds */
        if (strlen(p) != (size_t)(eol - p))
            return err_set(err, ERR_INVALID, "key file line %zu: holds a NUL byte", line);
        if (eol > p && eol[-1] == '\r')
            eol[-1] = '\0';
        char *next = eol + 1;

        if (line == 1) {
            char *f[MAX_FIELDS];
            size_t nf = split_fields(p, f);
            if (nf == 2 && strcmp(f[0], "civic311-keys") == 0 && strcmp(f[1], "1") == 0) {
                p = next;
                continue;
            }
            if (nf >= 1 && strcmp(f[0], "civic311-keys") == 0)
                return err_set(err, ERR_INVALID,
                               "key file line 1: a format version this build does not know "
                               "(it reads \"%s\")",
                               KEYRING_HEADER);
            return err_set(err, ERR_INVALID,
                           "key file line 1: not a Civic311 key file (the first line must be "
                           "\"%s\")",
                           KEYRING_HEADER);
        }
        const char *q = p + strspn(p, " \t");
        if (*q == '\0' || *q == '#') {
            p = next;
            continue;
        }
        char *f[MAX_FIELDS];
        size_t nf = split_fields(p, f);
        if (nf > MAX_FIELDS)
            return err_set(err, ERR_INVALID, "key file line %zu: too many fields", line);
        err_code rc;
        if (strcmp(f[0], "kek") == 0)
            rc = parse_kek(k, &ps, line, f, nf, err);
        else if (strcmp(f[0], "blind") == 0)
            rc = parse_blind(k, &ps, line, f, nf, err);
        else if (strcmp(f[0], "sign") == 0)
            rc = parse_sign(k, &ps, line, f, nf, err);
        else
            rc = err_set(err, ERR_INVALID,
                         "key file line %zu: an unknown entry (expected kek, blind or sign)", line);
        if (rc != ERR_OK)
            return rc;
        p = next;
    }
    if (k->nkek == 0)
        return err_set(err, ERR_INVALID, "key file: no kek line (a key-encryption key)");
    if (ps.blind_line == 0)
        return err_set(err, ERR_INVALID, "key file: no blind line (the blind-index key)");
    if (ps.sign_line == 0)
        return err_set(err, ERR_INVALID, "key file: no sign line (the audit signing key)");
    return ERR_OK;
}

err_code keyring_load(const char *path, keyring_t **out, err_t *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium could not be initialised");
    char *text;
    size_t len;
    err_code rc = keyring_read_file(path, &text, &len, err);
    if (rc != ERR_OK)
        return rc;
    keyring_t *k = keyring_alloc(path, err);
    if (k == NULL) {
        sodium_free(text);
        return ERR_NOMEM;
    }
    rc = keyring_parse(k, text, len, err);
    sodium_free(text);
    if (rc != ERR_OK) {
        keyring_free(k);
        return rc;
    }
    keyring_seal_memory(k);
    *out = k;
    return ERR_OK;
}

/* ---- writing ---- */

/* A fixed buffer in guarded memory for the file's text: buf_t would
 * realloc, leaving copies of the keys in freed heap. */
typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} secret_text;

static void st_puts(secret_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->failed || n >= t->cap - t->len) {
        t->failed = true;
        return;
    }
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

static void st_hex(secret_text *t, const unsigned char *bin, size_t n)
{
    if (t->failed || 2 * n >= t->cap - t->len) {
        t->failed = true;
        return;
    }
    sodium_bin2hex(t->p + t->len, t->cap - t->len, bin, n);
    t->len += 2 * n;
}

/* The file's text, with the KEKs from index `from` on (drop_old_keks
 * writes only the last). */
static void keyring_render(const keyring_t *k, size_t from, secret_text *t)
{
    st_puts(t, KEYRING_HEADER
            "\n"
            "# Civic311 key file, written by civic311. Keep it mode 0600 and back it up\n"
            "# apart from the database: without it nothing sealed can be read.\n");
    for (size_t i = from; i < k->nkek; i++) {
        char head[64];
        snprintf(head, sizeof head, "kek %d %lld ", k->kek_version[i],
                 (long long)k->kek_created[i]);
        st_puts(t, head);
        st_hex(t, k->sec->kek[i], KEYRING_KEY_LEN);
        st_puts(t, "\n");
    }
    st_puts(t, "blind ");
    st_hex(t, k->sec->blind, KEYRING_KEY_LEN);
    st_puts(t, "\nsign ");
    st_hex(t, k->sec->sign_sk, KEYRING_SIGN_SK_LEN);
    st_puts(t, "\n");
}

static err_code write_all(int fd, const char *p, size_t n, const char *path, err_t *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set(err, ERR_IO, "cannot write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return ERR_OK;
}

/* fsync of the directory makes the rename itself durable: without it a
 * crash could bring back the old directory entry after we reported
 * success, and with it a key that was dropped. */
static err_code sync_dir_of(const char *path, err_t *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code rc = ERR_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = err_set(err, ERR_IO, "key file written, but cannot open its directory %s: %s", dir,
                     strerror(errno));
    } else {
        /* EINVAL: a file system that cannot sync a directory (some network
         * ones); there is nothing more we can do there. */
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = err_set(err, ERR_IO, "key file written, but cannot sync its directory %s: %s", dir,
                         strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

/*
 * Writes text to path through path.tmp: write, fsync, then rename (or, for
 * a new file, link) over path, then fsync the directory. A crash at any
 * point leaves the old file or the new one, whole. *published says whether
 * path now holds the new text, which the caller needs when a later step
 * (the directory sync) fails: memory must then follow the file.
 *
 * With replace false, path must not exist: link() fails if it does, so two
 * `keys init` racing cannot both win and the loser cannot overwrite the
 * winner's keys (losing a KEK loses every sealed value).
 */
static err_code write_key_file(const char *path, const char *text, size_t len, bool replace,
                               bool *published, err_t *err)
{
    *published = false;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp");
    if (tmp == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");

    err_code rc = ERR_OK;
    bool created = false;
    int fd = -1;
    /* A crash between creating path.tmp and renaming it leaves it behind.
     * It never was the key file, so it goes; O_EXCL then guarantees we
     * write a file we just made, not one planted there (a symlink, or a
     * file someone else holds open). */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        rc = err_set(err, ERR_IO, "cannot remove the stale %s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = err_set(err, ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    created = true;
    rc = write_all(fd, text, len, tmp, err);
    if (rc != ERR_OK)
        goto done;
    /* The data must be on disk before the name points at it, or a crash
     * could leave path naming an empty file. */
    if (fsync(fd) != 0) {
        rc = err_set(err, ERR_IO, "cannot sync %s: %s", tmp, strerror(errno));
        goto done;
    }
    int crc = close(fd);
    fd = -1;
    if (crc != 0) {
        rc = err_set(err, ERR_IO, "cannot close %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (replace) {
        if (rename(tmp, path) != 0) {
            rc = err_set(err, ERR_IO, "cannot rename %s over %s: %s", tmp, path, strerror(errno));
            goto done;
        }
    } else if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            rc = err_set(err, ERR_CONFLICT, "a key file already exists at %s", path);
            goto done;
        }
        /* A file system without hard links: rename, with only the caller's
         * existence check standing between us and an overwrite. */
        if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS) {
            rc = err_set(err, ERR_IO, "cannot link %s to %s: %s", tmp, path, strerror(errno));
            goto done;
        }
        if (rename(tmp, path) != 0) {
            rc = err_set(err, ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
            goto done;
        }
    } else {
        /* Linked: path is the new file. A failure to remove the extra name
         * is harmless (the next write removes it) and not worth an error
         * that would make the caller think there are no keys. */
        (void)unlink(tmp);
    }
    created = false; /* path.tmp is gone (renamed) or no longer ours to remove */
    *published = true;
    rc = sync_dir_of(path, err);
done:
    if (fd >= 0)
        close(fd);
    if (created)
        (void)unlink(tmp); /* best effort: a leftover is removed by the next write */
    free(tmp);
    return rc;
}

static err_code keyring_save(const keyring_t *k, size_t from, bool replace, bool *published,
                             err_t *err)
{
    *published = false;
    secret_text t = {sodium_malloc(KEYRING_TEXT_MAX), 0, KEYRING_TEXT_MAX, false};
    if (t.p == NULL)
        return err_set(err, ERR_NOMEM, "out of memory writing the key file");
    t.p[0] = '\0';
    keyring_render(k, from, &t);
    err_code rc;
    if (t.failed)
        rc = err_set(err, ERR_INTERNAL, "the key file text outgrew its buffer");
    else
        rc = write_key_file(k->path, t.p, t.len, replace, published, err);
    sodium_free(t.p);
    return rc;
}

err_code keyring_create(const char *path, err_t *err)
{
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium could not be initialised");
    /* Checked first for a clear answer before any key is made;
     * write_key_file's link() is what makes it safe against a race. */
    struct stat st;
    if (lstat(path, &st) == 0)
        return err_set(err, ERR_CONFLICT, "a key file already exists at %s", path);
    if (errno != ENOENT)
        return err_set(err, ERR_IO, "cannot check %s: %s", path, strerror(errno));

    keyring_t *k = keyring_alloc(path, err);
    if (k == NULL)
        return ERR_NOMEM;
    k->nkek = 1;
    k->kek_version[0] = 1;
    k->kek_created[0] = (int64_t)time(NULL);
    randombytes_buf(k->sec->kek[0], KEYRING_KEY_LEN);
    randombytes_buf(k->sec->blind, KEYRING_KEY_LEN);
    unsigned char pk[KEYRING_SIGN_PK_LEN]; /* also the tail of sign_sk */
    crypto_sign_keypair(pk, k->sec->sign_sk);
    bool published;
    err_code rc = keyring_save(k, 0, false, &published, err);
    keyring_free(k);
    return rc;
}

err_code keyring_add_kek(keyring_t *k, int *version, err_t *err)
{
    if (k->nkek >= KEYRING_MAX_KEKS)
        return err_set(err, ERR_TOO_LARGE,
                       "the key file holds %d keks already: finish the rotation under way first",
                       KEYRING_MAX_KEKS);
    int cur = keyring_kek_current(k);
    if (cur == INT_MAX)
        return err_set(err, ERR_TOO_LARGE, "kek versions are exhausted");
    err_code rc = keyring_unseal_memory(k, err);
    if (rc != ERR_OK)
        return rc;
    size_t i = k->nkek; /* cur is the highest, so the new one goes last */
    randombytes_buf(k->sec->kek[i], KEYRING_KEY_LEN);
    k->kek_version[i] = cur + 1;
    k->kek_created[i] = (int64_t)time(NULL);
    k->nkek++;
    bool published;
    rc = keyring_save(k, 0, true, &published, err);
    if (!published) {
        /* The file still has the old set: so must memory, or a data key
         * could be wrapped under a KEK that exists nowhere on disk. */
        k->nkek--;
        sodium_memzero(k->sec->kek[i], KEYRING_KEY_LEN);
        k->kek_version[i] = 0;
        k->kek_created[i] = 0;
    } else if (version != NULL) {
        *version = cur + 1;
    }
    keyring_seal_memory(k);
    return rc;
}

err_code keyring_drop_old_keks(keyring_t *k, err_t *err)
{
    if (k->nkek <= 1)
        return ERR_OK; /* nothing to drop: the file is already what we would write */
    err_code rc = keyring_unseal_memory(k, err);
    if (rc != ERR_OK)
        return rc;
    size_t last = k->nkek - 1;
    bool published;
    rc = keyring_save(k, last, true, &published, err);
    if (published) {
        /* The old KEKs are gone from disk; now from memory too. */
        memmove(k->sec->kek[0], k->sec->kek[last], KEYRING_KEY_LEN);
        sodium_memzero((unsigned char *)k->sec->kek + KEYRING_KEY_LEN,
                       (KEYRING_MAX_KEKS - 1) * KEYRING_KEY_LEN);
        k->kek_version[0] = k->kek_version[last];
        k->kek_created[0] = k->kek_created[last];
        for (size_t i = 1; i < KEYRING_MAX_KEKS; i++) {
            k->kek_version[i] = 0;
            k->kek_created[i] = 0;
        }
        k->nkek = 1;
    }
    keyring_seal_memory(k);
    return rc;
}

/*
 * replay.c - a main() for the fuzz targets when they are built without
 * libFuzzer (gcc, ASan+UBSan: build/asan/fuzz/fuzz_X). It feeds every file
 * of the directories and files named on the command line to
 * LLVMFuzzerTestOneInput, once each, in name order, so `make test` replays
 * the committed corpora (fuzz/corpus/X/) on every run.
 *
 * Each input is copied into a heap block of exactly its size, so ASan
 * catches a harness or decoder reading one byte past the end, as libFuzzer
 * would. A directory that is missing or holds no input is an error: a
 * corpus that silently vanished must fail the test run, not pass it.
 *
 * When an input crashes (ASan/UBSan report, or abort() on a broken
 * invariant), the name of the file is written to stderr so the report can
 * be turned into a test at once.
 *
 * Harnesses initialise themselves lazily (a static on first call), so
 * LLVMFuzzerInitialize is not used here.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* scandir, strnlen: also without the Makefile */
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#endif

#ifdef REPLAY_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input being run, for the crash message. Written before each run and
 * only read from the crash paths. */
static const char *volatile current_input;

static void say_current(void)
{
    const char *p = current_input;
    if (p == NULL)
        return;
    static const char pre[] = "replay: crashed on input ";
    /* write(2) only: this may run from a signal handler. */
    ssize_t ignored = write(STDERR_FILENO, pre, sizeof pre - 1);
    ignored = write(STDERR_FILENO, p, strlen(p));
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
}

static void on_abort(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads all of f into a heap block of exactly its size (1 byte for an
 * empty file, which is never read). Returns false on a read error or out
 * of memory. */
static bool read_exact(FILE *f, unsigned char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    unsigned char *tmp = malloc(cap), *exact = NULL;
    while (tmp != NULL) {
        if (n == cap) {
            unsigned char *grown = realloc(tmp, cap * 2);
            if (grown == NULL)
                break;
            tmp = grown;
            cap *= 2;
        }
        size_t got = fread(tmp + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (!ferror(f))
                exact = malloc(n > 0 ? n : 1);
            break;
        }
    }
    if (exact != NULL && n > 0)
        memcpy(exact, tmp, n);
    free(tmp);
    *out = exact;
    *len = n;
    return exact != NULL;
}

/* Runs one file. Returns 0, or -1 if it could not be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned char *data;
    size_t len;
    bool ok = read_exact(f, &data, &len);
    fclose(f);
    if (!ok) {
        fprintf(stderr, "replay: %s: read error or out of memory\n", path);
        return -1;
    }
    current_input = path;
    LLVMFuzzerTestOneInput(data, len);
    current_input = NULL;
    free(data);
    return 0;
}

static int skip_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Runs every regular file of dir. Returns how many ran, or -1. */
static long run_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    long ran = 0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        size_t plen = strlen(dir) + 1 + strlen(names[i]->d_name) + 1;
        char *path = malloc(plen);
        struct stat st;
        if (path == NULL) {
            failed = 1;
        } else {
            snprintf(path, plen, "%s/%s", dir, names[i]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (run_file(path) == 0)
                    ran++;
                else
                    failed = 1;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return failed ? -1 : ran;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_abort);
#ifdef REPLAY_ASAN
    __sanitizer_set_death_callback(say_current);
#endif
    long total = 0;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            long ran = run_dir(argv[i]);
            if (ran < 0) {
                status = 1;
            } else if (ran == 0) {
                fprintf(stderr, "replay: %s: no inputs in the directory\n", argv[i]);
                status = 1;
            } else {
                total += ran;
            }
        } else if (run_file(argv[i]) == 0) {
            total++;
        } else {
            status = 1;
        }
    }
    printf("replay: %ld inputs ran%s\n", total, status ? " (with errors above)" : "");
    return status;
}

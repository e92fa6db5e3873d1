/*
 * fuzz_emergency.c - emergency_text, emergency_service and emergency_check
 * (I5), which read every description a resident sends.
 *
 * The input is a description (NUL bytes read as spaces, so all of it is
 * text). emergency_text must not crash on any bytes, and its verdict must
 * not change when the text changes in ways the reader promises to ignore:
 *  - ASCII capitals (upper-casing every ASCII letter);
 *  - which separator (every ASCII byte that is not a letter or digit
 *    becomes a space: an ASCII byte is never part of a UTF-8 sequence);
 *  - combining accents (U+0301 after every ASCII letter);
 *  - a word that is in no table ("zq ") before the text.
 * " fire" after any text always warns (no exclusion has "fire" after its
 * first word), and emergency_check with no service agrees with
 * emergency_text.
 *
 * The input split at its first two NUL bytes also gives a service's
 * keywords and notice: a notice that makes a service an emergency one
 * reads like an emergency itself, and emergency_check puts the service
 * first.
 *
 * Corpus: fuzz/corpus/emergency/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/emergency.h"

/* Descriptions are at most 4000 code points; longer inputs only cost time. */
enum { MAX_INPUT = 1 << 16 };

static bool is_ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_ascii_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The text as described above: NULs as spaces, then a NUL. */
static char *text_of(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < size; i++)
        t[i] = data[i] == 0 ? ' ' : (char)data[i];
    t[size] = '\0';
    return t;
}

static void check_text(const char *t, size_t n)
{
    bool warns = emergency_text(t);
    CHECK(emergency_text(t) == warns);
    CHECK(emergency_check(NULL, t) == (warns ? EMERGENCY_DESCRIPTION : EMERGENCY_NONE));

    /* Room for every variant: 3 bytes per byte (a letter and U+0301), a
     * prefix, a suffix and the NUL. */
    char *v = malloc(3 * n + 16);
    if (v == NULL)
        return;

    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)t[i];
        v[i] = (char)(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
    }
    CHECK(emergency_text(v) == warns);

    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)t[i];
        v[i] = (char)(c != 0 && c < 0x80 && !is_ascii_alnum(c) ? ' ' : c);
    }
    CHECK(emergency_text(v) == warns);

    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        v[k++] = t[i];
        if (is_ascii_letter((unsigned char)t[i])) {
            v[k++] = '\xcc';
            v[k++] = '\x81';
        }
    }
    v[k] = '\0';
    CHECK(emergency_text(v) == warns);

    memcpy(v, "zq ", 3);
    memcpy(v + 3, t, n + 1);
    CHECK(emergency_text(v) == warns);

    memcpy(v, t, n);
    memcpy(v + n, " fire", 6);
    CHECK(emergency_text(v));

    free(v);
}

static void check_service(const uint8_t *data, size_t size, const char *description)
{
    /* keywords NUL notice NUL ...: both may be missing. */
    char *copy = malloc(size + 2);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    const char *keywords = copy;
    size_t kn = strlen(keywords);
    const char *notice = kn < size ? copy + kn + 1 : NULL;

    service sv;
    memset(&sv, 0, sizeof sv);
    sv.code = "FUZZ";
    sv.name = "Fuzz";
    sv.keywords = keywords;
    sv.service_notice = notice;
    bool is = emergency_service(&sv);
    emergency_reason r = emergency_check(&sv, description);
    CHECK(r == (is                            ? EMERGENCY_SERVICE
                : emergency_text(description) ? EMERGENCY_DESCRIPTION
                                              : EMERGENCY_NONE));

    sv.keywords = NULL;
    if (emergency_service(&sv))
        CHECK(emergency_text(notice));
    sv.service_notice = NULL;
    CHECK(!emergency_service(&sv));
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *t = text_of(data, size);
    if (t == NULL)
        return 0;
    check_text(t, size);
    check_service(data, size, t);
    free(t);
    return 0;
}

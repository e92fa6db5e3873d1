/*
 * fold.c - text folded for matching words (fold.h).
 */
#include "util/fold.h"

/* Decodes the code point at *p (p < end), strictly (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), and moves *p past it. A
 * byte that does not start a whole valid sequence gives NOT_UTF8 and moves
 * *p by that one byte only, so a valid sequence after it is still read. */
uint32_t fold_decode(const unsigned char **p, const unsigned char *end)
{
    const unsigned char *s = *p;
    unsigned c = s[0];
    size_t need;
    uint32_t cp;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */

    *p = s + 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return FOLD_NOT_UTF8;
    }
    if ((size_t)(end - s) <= need)
        return FOLD_NOT_UTF8;
    for (size_t i = 1; i <= need; i++) {
        unsigned b = s[i];
        if (b < lo || b > hi)
            return FOLD_NOT_UTF8;
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
    }
    *p = s + need + 1;
    return cp;
}

/* Latin-1 letters U+00C0..U+00FF without their accents; NULL for the two
 * signs among them (U+00D7 multiplication, U+00F7 division). A row of the
 * table per row of the code chart, so clang-format is kept off it. */
/* clang-format off */
static const char *const LATIN1[64] = {
    /* À..Ï */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* Ð..ß */ "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
    /* à..ï */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* ð..ÿ */ "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};
/* clang-format on */

/* Latin Extended-A, U+0100..U+017F: each letter's base letter. The
 * ligatures Ĳ ĳ (U+0132-3) and Œ œ (U+0152-3) are two letters:
 * fold_codepoint()
 * handles them before this table. */
static const char LATIN_EXT_A[128] = "aaaaaaccccccccdd"  /* Ā..ď */
                                     "ddeeeeeeeeeegggg"  /* Đ..ğ */
                                     "gggghhhhiiiiiiii"  /* Ġ..į */
                                     "iiiijjkkklllllll"  /* İ..Ŀ */
                                     "lllnnnnnnnnnoooo"  /* ŀ..ŏ */
                                     "oooorrrrrrssssss"  /* Ő..ş */
                                     "ssttttttuuuuuuuu"  /* Š..ů */
                                     "uuuuwwyyyzzzzzzs"; /* Ű..ſ */

/* What code point cp adds to a word: a string of lower-case ASCII letters
 * or digits (in ascii[] for ASCII), "" for a mark that belongs to the
 * letter before it, or NULL if cp separates words. */
const char *fold_codepoint(uint32_t cp, char ascii[2])
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        else if (!((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')))
            return NULL;
        ascii[0] = (char)cp;
        ascii[1] = '\0';
        return ascii;
    }
    if (cp >= 0xC0 && cp <= 0xFF)
        return LATIN1[cp - 0xC0];
    if (cp == 0x132 || cp == 0x133)
        return "ij";
    if (cp == 0x152 || cp == 0x153)
        return "oe";
    if (cp >= 0x100 && cp <= 0x17F) {
        ascii[0] = LATIN_EXT_A[cp - 0x100];
        ascii[1] = '\0';
        return ascii;
    }
    /* Combining accents (text in decomposed form: e + U+0301), the soft
     * hyphen, zero-width (non-)joiners, the word joiner and a stray BOM
     * are invisible inside a word. */
    if ((cp >= 0x300 && cp <= 0x36F) || cp == 0xAD || cp == 0x200C || cp == 0x200D ||
        cp == 0x2060 || cp == 0xFEFF)
        return "";
    return NULL;
}

void fold_text(const char *text, size_t len, buf_t *out)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    bool in_word = false;
    while (p < end) {
        char ascii[2];
        const char *f = fold_codepoint(fold_decode(&p, end), ascii);
        if (f == NULL) {
            if (in_word)
                buf_putc(out, ' ');
            in_word = false;
            continue;
        }
        if (*f != '\0') {
            buf_puts(out, f);
            in_word = true;
        }
    }
}

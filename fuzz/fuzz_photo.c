/*
 * fuzz_photo.c - photo_clean (media/photo.h), the path every uploaded
 * photo takes: sniff, header, decode with libjpeg / libpng / libwebp
 * through libvips, orientation, shrink, re-encode, metadata scrub.
 *
 * Small limits (64 KB, 1 megapixel, 256 px a side) keep each run fast
 * and its memory small. Whatever the input:
 *  - a refusal is ERR_INVALID or ERR_TOO_LARGE with one of photo.c's own
 *    messages (never a byte of the file), and no output;
 *  - an acceptance is an image of the type the input's signature named,
 *    at most 256 px a side, that carries no metadata container: no JPEG
 *    APP1..APP13/APP15 or COM segment, no PNG chunk but IHDR, PLTE, tRNS,
 *    IDAT, IEND and pHYs, no WebP EXIF, XMP or ICCP chunk;
 *  - and it is accepted again as it is, at the same size: the output
 *    decodes in full.
 *
 * Corpus: fuzz/corpus/photo/, tiny images made with libvips 8.14 and the
 * metadata builders of tests/unit/test_photo.c (EXIF with GPS, XMP, IPTC,
 * ICC, comments; orientation 6; progressive, CMYK, grey, palette, 16-bit,
 * interlaced, alpha, animated), a few broken ones, each under 4 KB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "media/photo.h"

static int one_of(const char *msg, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(msg, list[i]) == 0)
            return 1;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* JPEG: the marker segments before the first scan, none of them metadata. */
static void check_jpeg(const uint8_t *p, size_t n)
{
    CHECK(n >= 4 && p[0] == 0xFF && p[1] == 0xD8);
    size_t at = 2;
    for (;;) {
        CHECK(n - at >= 4 && p[at] == 0xFF);
        uint8_t m = p[at + 1];
        if (m == 0xDA)
            return;
        CHECK(!((m >= 0xE1 && m <= 0xEF && m != 0xEE) || m == 0xFE));
        size_t seg = 2 + ((size_t)p[at + 2] << 8 | p[at + 3]);
        CHECK(seg >= 4 && seg <= n - at);
        at += seg;
    }
}

/* PNG: only the picture's chunks, up to IEND, and nothing after it. */
static void check_png(const uint8_t *p, size_t n)
{
    static const char keep[][5] = {"IHDR", "PLTE", "tRNS", "IDAT", "IEND", "pHYs"};
    size_t at = 8;
    for (;;) {
        CHECK(n - at >= 12);
        uint32_t len = be32(p + at);
        CHECK(len <= n - at - 12);
        int kept = 0;
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            kept |= memcmp(p + at + 4, keep[i], 4) == 0;
        CHECK(kept);
        int end = memcmp(p + at + 4, "IEND", 4) == 0;
        at += 12 + (size_t)len;
        if (end) {
            CHECK(at == n);
            return;
        }
    }
}

/* WebP: a RIFF of the right size, no metadata chunk, no metadata flag. */
static void check_webp(const uint8_t *p, size_t n)
{
    CHECK(n >= 20 && le32(p + 4) == n - 8);
    size_t at = 12;
    while (at < n) {
        CHECK(n - at >= 8);
        uint32_t len = le32(p + at + 4);
        CHECK(len <= n - at - 8);
        CHECK(memcmp(p + at, "EXIF", 4) != 0 && memcmp(p + at, "XMP ", 4) != 0 &&
              memcmp(p + at, "ICCP", 4) != 0);
        if (memcmp(p + at, "VP8X", 4) == 0)
            CHECK(len >= 1 && (p[at + 8] & 0x2C) == 0);
        at += 8 + (size_t)len + (len & 1);
    }
    CHECK(at == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    err_t err;
    if (!ready) {
        if (photo_init(&err) != ERR_OK) {
            fprintf(stderr, "photo_init: %s\n", err.msg);
            abort();
        }
        ready = 1;
    }
    static const char *const refusals[] = {
        "the file is not a JPEG, PNG or WebP image",
        "the image is too large (at most 64 KB)",
        "the image has too many pixels",
        "the image could not be read",
    };
    const photo_limits lim = {64 * 1024, 1000 * 1000, 256};

    unsigned char *out = (unsigned char *)"not set";
    size_t out_len = 99;
    photo_type type = PHOTO_WEBP;
    uint32_t w = 0, h = 0;
    err.code = ERR_OK;
    err_code rc = photo_clean(data, size, &lim, &out, &out_len, &type, &w, &h, &err);
    if (rc != ERR_OK) {
        CHECK(rc == ERR_INVALID || rc == ERR_TOO_LARGE);
        CHECK(err.code == rc);
        CHECK(one_of(err.msg, refusals, sizeof refusals / sizeof refusals[0]));
        CHECK(out == NULL && out_len == 0);
        return 0;
    }

    photo_type sniffed;
    CHECK(photo_sniff(data, size, &sniffed, NULL) == ERR_OK && sniffed == type);
    CHECK(out != NULL && out_len > 0);
    CHECK(w >= 1 && w <= 256 && h >= 1 && h <= 256);
    CHECK(photo_sniff(out, out_len, &sniffed, NULL) == ERR_OK && sniffed == type);
    switch (type) {
    case PHOTO_JPEG: check_jpeg(out, out_len); break;
    case PHOTO_PNG: check_png(out, out_len); break;
    case PHOTO_WEBP: check_webp(out, out_len); break;
    }

    /* The output is a photo we take as it is. (Under 64 KB: a 256 x 256
     * PNG of noise can be more, and is then refused by size, which says
     * nothing about its decoding; skip it.) */
    if (out_len <= lim.max_bytes) {
        unsigned char *again = NULL;
        size_t again_len = 0;
        photo_type again_type;
        uint32_t w2 = 0, h2 = 0;
        rc = photo_clean(out, out_len, &lim, &again, &again_len, &again_type, &w2, &h2, &err);
        if (rc != ERR_OK)
            fprintf(stderr, "cleaned output refused: %s\n", err.msg);
        CHECK(rc == ERR_OK);
        CHECK(again_type == type && w2 == w && h2 == h);
        free(again);
    }
    free(out);
    return 0;
}

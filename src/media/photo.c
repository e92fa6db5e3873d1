/*
 * photo.c - uploaded photos made safe to keep (P11). Owns libvips for the
 * process (its start, its settings, its stop) and the whole path of one
 * upload: byte limit, sniff, header check, decode, orientation, shrink,
 * metadata removal, re-encode, and a last pass over the encoded bytes.
 *
 * What it must never do:
 *  - decode a byte before the byte limit and the signature have passed,
 *    or a pixel before the header's width x height has passed; or give
 *    libpng a file whose chunks claim more bytes than it has;
 *  - hand bytes to any decoder but the one the signature names (the
 *    loader is called by name, and every other libvips loader is blocked);
 *  - keep a photo after a call returns: libvips's operation cache is off,
 *    and decoded pixels stream or stay in memory, never in a temporary
 *    file (see load_header);
 *  - let a piece of metadata through: fields are removed before encoding
 *    (strip_fields), the encoders are told to strip, and what they write
 *    is walked and anything but the picture dropped (scrub);
 *  - put file contents or names in an error message or the log: libvips's
 *    own messages can quote bytes of the file (a libpng warning names the
 *    ICC profile a file carries), so they are dropped, never shown.
 */
#include "media/photo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#define PHOTO_QUALITY 85 /* JPEG and WebP quality, as photo.h promises */

void photo_limits_default(photo_limits *l)
{
    l->max_bytes = (size_t)10 * 1024 * 1024;
    l->max_pixels = 40u * 1000 * 1000;
    l->max_side = 2048;
}

const char *photo_mime(photo_type t)
{
    switch (t) {
    case PHOTO_JPEG: return "image/jpeg";
    case PHOTO_PNG: return "image/png";
    case PHOTO_WEBP: return "image/webp";
    }
    return "application/octet-stream";
}

/* ---- libvips for the process ---- */

enum { PHOTO_NEW, PHOTO_READY, PHOTO_FAILED, PHOTO_STOPPED };
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int state = PHOTO_NEW;

/* libvips reports through GLib's log ("VIPS" domain), and what it says can
 * quote the file (a chunk's text, an ICC profile's name). A resident's
 * upload is not the operator's business: drop it. Our own errors say what
 * went wrong in words of ours. */
static void drop_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

static int start_vips(void)
{
    if (VIPS_INIT("civic311") != 0)
        return -1;
    g_log_set_handler("VIPS",
                      G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                          G_LOG_LEVEL_DEBUG,
                      drop_log, NULL);
    /* No cache: it would hold operations, and so someone's photo, after
     * the call that made them. */
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    /* One worker per pipeline: the server's own threads are the
     * parallelism; a photo must not take every core from the others. */
    vips_concurrency_set(1);
    /* Only the three decoders we call by name may run: the rest (TIFF,
     * SVG, PDF, ImageMagick as a module, ...) are blocked, so no path in
     * libvips can route an upload to them. */
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    vips_operation_block_set("VipsForeignLoadJpegBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadPngBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadWebpBuffer", FALSE);
    return 0;
}

err_code photo_init(err_t *err)
{
    pthread_mutex_lock(&state_lock);
    int s = atomic_load(&state);
    if (s == PHOTO_NEW) {
        s = start_vips() == 0 ? PHOTO_READY : PHOTO_FAILED;
        atomic_store(&state, s);
    }
    pthread_mutex_unlock(&state_lock);
    if (s == PHOTO_READY)
        return ERR_OK;
    if (s == PHOTO_STOPPED) /* libvips cannot start twice in a process */
        return err_set(err, ERR_INTERNAL, "the image library was stopped and cannot restart");
    return err_set(err, ERR_INTERNAL, "the image library could not start");
}

void photo_shutdown(void)
{
    pthread_mutex_lock(&state_lock);
    if (atomic_load(&state) == PHOTO_READY) {
        atomic_store(&state, PHOTO_STOPPED);
        vips_shutdown();
    }
    pthread_mutex_unlock(&state_lock);
}

/* ---- one upload ---- */

err_code photo_sniff(const unsigned char *data, size_t len, photo_type *type, err_t *err)
{
    static const unsigned char jpeg[3] = {0xFF, 0xD8, 0xFF};
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (data != NULL && len >= sizeof png && memcmp(data, png, sizeof png) == 0) {
        *type = PHOTO_PNG;
        return ERR_OK;
    }
    if (data != NULL && len >= sizeof jpeg && memcmp(data, jpeg, sizeof jpeg) == 0) {
        *type = PHOTO_JPEG;
        return ERR_OK;
    }
    if (data != NULL && len >= 12 && memcmp(data, "RIFF", 4) == 0 &&
        memcmp(data + 8, "WEBP", 4) == 0) {
        *type = PHOTO_WEBP;
        return ERR_OK;
    }
    return err_set(err, ERR_INVALID, "the file is not a JPEG, PNG or WebP image");
}

static err_code unreadable(err_t *err)
{
    /* libvips's message may quote the file; it is not ours to keep. */
    vips_error_clear();
    return err_set(err, ERR_INVALID, "the image could not be read");
}

static err_code too_many_bytes(size_t max, err_t *err)
{
    const char *msg = "the image is too large (at most %zu %s)";
    if (max >= 1024 * 1024)
        return err_set(err, ERR_TOO_LARGE, msg, max / (1024 * 1024), "MB");
    if (max >= 1024)
        return err_set(err, ERR_TOO_LARGE, msg, max / 1024, "KB");
    return err_set(err, ERR_TOO_LARGE, msg, max, "bytes");
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * PNG: no chunk may claim more bytes than the upload holds. libpng, as
 * Debian 12's libvips 8.14 sets it up, allocates (and clears) a text
 * chunk's declared length before it reads the chunk: 67 bytes declaring a
 * 2 GB iTXt cost 2 GB of memory and half a minute, before any limit of
 * ours could look (found by fuzz_photo). A well-formed file's chunks all
 * lie inside it, so this refuses nothing real; every allocation libpng
 * then makes for a chunk is bounded by the upload's size. (Compressed
 * text and ICC chunks are bounded by libpng's own decompression limit.)
 */
static int png_chunks_fit(const unsigned char *p, size_t n)
{
    size_t at = 8; /* after the signature */
    while (n - at >= 8) { /* a length and a type to read */
        uint32_t len = be32(p + at);
        if (len > 0x7FFFFFFFu || len > n - at - 8 || n - at - 8 - len < 4)
            return 0;
        if (memcmp(p + at + 4, "IEND", 4) == 0)
            break;
        at += 12 + (size_t)len;
    }
    return 1;
}

/*
 * The header only: width, height and metadata, no pixel decoded yet.
 * libvips decodes lazily, when a pixel is first asked for, so the pixel
 * limit is checked before any pixel memory exists.
 *
 *  - fail_on=error: a truncated or corrupt file fails the decode instead
 *    of coming out padded with grey. (Mere warnings, such as libpng's about
 *    an odd ICC profile, are common in real photos and do not refuse.)
 *  - sequential: pixels stream from the decoder through the shrink to the
 *    encoder, so the full-size picture is never held whole (a baseline
 *    40-megapixel JPEG peaks at 86 MB). An interlaced PNG cannot stream;
 *    libvips reads it whole into memory itself.
 *  - memory, for WebP only: libwebp decodes a frame whole, and libvips
 *    would put one of over 100 MB decoded in a file under /tmp (seen with
 *    strace for a 40-megapixel WebP): a resident's photo on disk, if only
 *    briefly. "memory" keeps it in memory. Not for JPEG or PNG: there
 *    libvips writes no file without it (strace, 40 megapixels, interlaced
 *    PNG too), and with it decodes the whole picture before streaming it
 *    (a 40-megapixel JPEG: 192 MB instead of 86).
 *  - libvips's default limits stay on (PNG text chunks, JPEG progressive
 *    scans): "unlimited" is never set.
 *
 * The loaders take a non-const pointer but only read it; the image points
 * into data (no copy), so data must outlive every image made from it.
 */
static VipsImage *load_header(const unsigned char *data, size_t len, photo_type type)
{
    void *buf = (void *)data;
    VipsImage *img = NULL;
    int rc = -1;
    switch (type) {
    case PHOTO_JPEG:
        rc = vips_jpegload_buffer(buf, len, &img, "fail_on", VIPS_FAIL_ON_ERROR, "access",
                                  VIPS_ACCESS_SEQUENTIAL, NULL);
        break;
    case PHOTO_PNG:
        rc = vips_pngload_buffer(buf, len, &img, "fail_on", VIPS_FAIL_ON_ERROR, "access",
                                 VIPS_ACCESS_SEQUENTIAL, NULL);
        break;
    case PHOTO_WEBP:
        rc = vips_webpload_buffer(buf, len, &img, "fail_on", VIPS_FAIL_ON_ERROR, "access",
                                  VIPS_ACCESS_SEQUENTIAL, "memory", TRUE, NULL);
        break;
    }
    return rc == 0 ? img : NULL;
}

/*
 * Shrinks so the longest side is at most max_side (never enlarges), and
 * turns the picture the way its orientation tag says: vips_thumbnail_image
 * shrinks as the pixels stream, then copies the (small) result to memory
 * and rotates it. Shrinking before rotating gives the same picture as
 * rotating first, since a quarter turn keeps the longest side the longest,
 * and it never holds the full-size picture.
 *
 * It also brings the pixels to 8-bit sRGB (or 8-bit grey): CMYK JPEGs,
 * 16-bit PNGs. A picture with an ICC profile is converted from it to sRGB,
 * so removing the profile later does not shift its colours (a phone's
 * Display P3 photo would otherwise look washed out); if the profile is
 * unusable, the picture is kept as it is rather than refused.
 */
static VipsImage *shrink_and_turn(VipsImage *in, uint32_t max_side)
{
    int side = max_side > (uint32_t)VIPS_MAX_COORD ? VIPS_MAX_COORD : (int)max_side;
    VipsImage *out = NULL;
    if (vips_image_get_typeof(in, VIPS_META_ICC_NAME) != 0 &&
        vips_thumbnail_image(in, &out, side, "height", side, "size", VIPS_SIZE_DOWN,
                             "export_profile", "srgb", NULL) == 0)
        return out;
    vips_error_clear();
    if (vips_thumbnail_image(in, &out, side, "height", side, "size", VIPS_SIZE_DOWN, NULL) != 0)
        return NULL;
    return out;
}

/*
 * Removes every metadata field from img (a copy of our own): EXIF (as
 * "exif-data" and as the "exif-ifdN-*" fields decoded from it, GPS
 * included), XMP, IPTC, the ICC profile, the EXIF thumbnail, PNG text
 * chunks, orientation, and whatever a later libvips adds. Only the basic
 * header (width, height, bands, format, interpretation, resolution) is not
 * a removable field. The savers are also told to strip; this is the belt
 * to that brace, so no field can reach an encoder that writes it.
 */
static void strip_fields(VipsImage *img)
{
    gchar **fields = vips_image_get_fields(img);
    if (fields == NULL)
        return;
    for (size_t i = 0; fields[i] != NULL; i++)
        vips_image_remove(img, fields[i]);
    g_strfreev(fields);
}

/*
 * The last pass, over the encoded bytes: drops every container of
 * metadata an encoder wrote anyway, whatever it was told. Needed: Debian
 * 12's libvips 8.14 webpsave ignores "strip" for EXIF and writes one it
 * builds from the header (resolution, size, colour space). jpegsave and
 * pngsave honour "strip" there, but the next libvips may not, and this
 * pass makes the guarantee ours rather than the encoder's.
 *
 * Each rewrites p in place (it only ever shrinks) and sets *len; -1 if the
 * bytes are not the well-formed file an encoder writes (a bug, not an
 * upload's fault: these bytes came from libvips, not from the resident).
 */

/* JPEG: drops APP1..APP13, APP15 (Exif, XMP, ICC, Photoshop/IPTC, ...) and
 * COM before the first scan; keeps APP0 (JFIF: density only) and APP14
 * (Adobe: how the colours are coded). From SOS on, the bytes are picture
 * (libjpeg writes no marker segment after it in a baseline file). */
static int scrub_jpeg(unsigned char *p, size_t *len)
{
    size_t n = *len, r = 2, w = 2;
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return -1;
    for (;;) {
        if (n - r < 4 || p[r] != 0xFF)
            return -1;
        unsigned m = p[r + 1];
        if (m == 0xFF) { /* a fill byte */
            r++;
            continue;
        }
        if (m == 0xDA || m == 0xD9) /* SOS, or EOI */
            break;
        size_t seg = 2 + ((size_t)p[r + 2] << 8 | p[r + 3]);
        if (seg < 4 || seg > n - r)
            return -1;
        int drop = (m >= 0xE1 && m <= 0xEF && m != 0xEE) || m == 0xFE;
        if (!drop) {
            memmove(p + w, p + r, seg);
            w += seg;
        }
        r += seg;
    }
    memmove(p + w, p + r, n - r);
    *len = w + (n - r);
    return 0;
}

/* PNG: keeps the picture's chunks (IHDR, PLTE, tRNS, IDAT, IEND) and pHYs
 * (density); drops the rest (eXIf, tEXt, zTXt, iTXt, iCCP, tIME, ...) and
 * anything after IEND. */
static int scrub_png(unsigned char *p, size_t *len)
{
    static const char keep[][5] = {"IHDR", "PLTE", "tRNS", "IDAT", "IEND", "pHYs"};
    size_t n = *len, r = 8, w = 8;
    for (;;) {
        if (n - r < 12)
            return -1;
        uint32_t data = be32(p + r);
        if (data > n - r - 12)
            return -1;
        size_t chunk = 12 + (size_t)data;
        int kept = 0;
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            kept |= memcmp(p + r + 4, keep[i], 4) == 0;
        int end = memcmp(p + r + 4, "IEND", 4) == 0;
        if (kept) {
            memmove(p + w, p + r, chunk);
            w += chunk;
        }
        r += chunk;
        if (end)
            break;
    }
    *len = w;
    return 0;
}

/* WebP: drops the EXIF, XMP and ICCP chunks and clears their flags in
 * VP8X; if VP8X is then left saying nothing (no alpha, no animation), it
 * goes too, leaving the plain format: RIFF, WEBP, one VP8 or VP8L chunk. */
static int scrub_webp(unsigned char *p, size_t *len)
{
    enum { ICC = 0x20, EXIF = 0x08, XMP = 0x04 };
    size_t n = *len, r = 12, w = 12, vp8x = 0;
    if (n < 12 || le32(p + 4) != n - 8)
        return -1;
    while (r < n) {
        if (n - r < 8)
            return -1;
        uint32_t data = le32(p + r + 4);
        if (data > n - r - 8 || (data & 1) > n - r - 8 - data)
            return -1;
        size_t chunk = 8 + (size_t)data + (data & 1);
        int drop = memcmp(p + r, "EXIF", 4) == 0 || memcmp(p + r, "XMP ", 4) == 0 ||
                   memcmp(p + r, "ICCP", 4) == 0;
        if (!drop) {
            if (memcmp(p + r, "VP8X", 4) == 0) {
                if (data < 10 || w != 12)
                    return -1;
                vp8x = chunk;
                p[r + 8] &= (unsigned char)~(ICC | EXIF | XMP);
            }
            memmove(p + w, p + r, chunk);
            w += chunk;
        }
        r += chunk;
    }
    if (vp8x > 0 && p[12 + 8] == 0) {
        memmove(p + 12, p + 12 + vp8x, w - 12 - vp8x);
        w -= vp8x;
    }
    if (w == 12)
        return -1;
    uint32_t riff = (uint32_t)(w - 8);
    p[4] = riff & 0xFF;
    p[5] = riff >> 8 & 0xFF;
    p[6] = riff >> 16 & 0xFF;
    p[7] = riff >> 24 & 0xFF;
    *len = w;
    return 0;
}

static int scrub(photo_type type, unsigned char *p, size_t *len)
{
    switch (type) {
    case PHOTO_JPEG: return scrub_jpeg(p, len);
    case PHOTO_PNG: return scrub_png(p, len);
    case PHOTO_WEBP: return scrub_webp(p, len);
    }
    return -1;
}

/* Encodes img as type with no metadata. *buf is g_malloc'd. */
static int save(VipsImage *img, photo_type type, void **buf, size_t *len)
{
    switch (type) {
    case PHOTO_JPEG:
        return vips_jpegsave_buffer(img, buf, len, "Q", PHOTO_QUALITY, "optimize_coding", TRUE,
                                    "strip", TRUE, NULL);
    case PHOTO_PNG:
        return vips_pngsave_buffer(img, buf, len, "strip", TRUE, NULL);
    case PHOTO_WEBP:
        return vips_webpsave_buffer(img, buf, len, "Q", PHOTO_QUALITY, "strip", TRUE, NULL);
    }
    return -1;
}

err_code photo_clean(const unsigned char *data, size_t len, const photo_limits *lim,
                     unsigned char **out, size_t *out_len, photo_type *out_type,
                     uint32_t *width, uint32_t *height, err_t *err)
{
    if (out == NULL || out_len == NULL || (data == NULL && len > 0))
        return err_set(err, ERR_INTERNAL, "photo_clean: bad arguments");
    *out = NULL;
    *out_len = 0;
    photo_limits defaults;
    if (lim == NULL) {
        photo_limits_default(&defaults);
        lim = &defaults;
    }
    if (lim->max_side == 0)
        return err_set(err, ERR_INTERNAL, "photo_clean: max_side must be at least 1");
    if (atomic_load(&state) != PHOTO_READY)
        return err_set(err, ERR_INTERNAL, "the image library is not started");

    /* Bytes first (nothing read yet), then the signature. */
    if (len > lim->max_bytes)
        return too_many_bytes(lim->max_bytes, err);
    photo_type type;
    err_code rc = photo_sniff(data, len, &type, err);
    if (rc != ERR_OK)
        return rc;

    if (type == PHOTO_PNG && !png_chunks_fit(data, len))
        return err_set(err, ERR_INVALID, "the image could not be read");

    VipsImage *img = NULL, *shrunk = NULL, *bare = NULL;
    void *enc = NULL;
    size_t enc_len = 0;
    if ((img = load_header(data, len, type)) == NULL) {
        rc = unreadable(err);
        goto done;
    }
    uint64_t pixels = (uint64_t)vips_image_get_width(img) * (uint64_t)vips_image_get_height(img);
    if (pixels > lim->max_pixels) {
        rc = err_set(err, ERR_TOO_LARGE, "the image has too many pixels");
        goto done;
    }
    /* The pixels are decoded (all of them: fail_on) while they are encoded. */
    if ((shrunk = shrink_and_turn(img, lim->max_side)) == NULL ||
        vips_copy(shrunk, &bare, NULL) != 0) {
        rc = unreadable(err);
        goto done;
    }
    strip_fields(bare);
    if (save(bare, type, &enc, &enc_len) != 0 || enc_len == 0) {
        rc = unreadable(err);
        goto done;
    }
    /* photo.h promises malloc'd memory: the caller frees it with free(). */
    if ((*out = malloc(enc_len)) == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(*out, enc, enc_len);
    if (scrub(type, *out, &enc_len) != 0) {
        free(*out);
        *out = NULL;
        rc = err_set(err, ERR_INTERNAL, "the cleaned image was not well formed");
        goto done;
    }
    *out_len = enc_len;
    if (out_type != NULL)
        *out_type = type;
    if (width != NULL)
        *width = (uint32_t)vips_image_get_width(bare);
    if (height != NULL)
        *height = (uint32_t)vips_image_get_height(bare);
    rc = ERR_OK;
done:
    g_free(enc);
    if (bare != NULL)
        g_object_unref(bare);
    if (shrunk != NULL)
        g_object_unref(shrunk);
    if (img != NULL)
        g_object_unref(img);
    return rc;
}

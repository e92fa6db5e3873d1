/*
 * test_photo.c - uploaded photos (media/photo.h, P11): what comes out has
 * no metadata left, proved by walking the output's own structure (JPEG
 * segments, PNG chunks, RIFF chunks) and by searching its bytes for every
 * secret the input carried, after checking that the input did carry them;
 * orientation is applied to the pixels; every kind of bad upload is
 * refused with the message a resident can act on; the limits hold (bytes
 * before anything, pixels from the header before decoding); the output
 * decodes again as the same type; calls run from several threads at once.
 *
 * Every input is made here, with libvips and by hand (EXIF, XMP, IPTC,
 * ICC, PNG chunks): the test fetches nothing and reads no file.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vips/vips.h>

#include "testlib.h"
#include "media/photo.h"

/* ---- bytes ---- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_str(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_u8(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put_u16be(bytes *b, unsigned v)
{
    put_u8(b, v >> 8);
    put_u8(b, v);
}

static void put_u32be(bytes *b, uint32_t v)
{
    put_u16be(b, v >> 16);
    put_u16be(b, v & 0xFFFF);
}

static void put_u16le(bytes *b, unsigned v)
{
    put_u8(b, v);
    put_u8(b, v >> 8);
}

static void put_u32le(bytes *b, uint32_t v)
{
    put_u16le(b, v & 0xFFFF);
    put_u16le(b, v >> 16);
}

static uint32_t get_u32be(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

/* data with ins put in at offset at; malloc'd. */
static unsigned char *splice(const unsigned char *data, size_t len, size_t at, const bytes *ins,
                             size_t *out_len)
{
    bytes b = {0};
    put(&b, data, at);
    put(&b, ins->p, ins->n);
    put(&b, data + at, len - at);
    *out_len = b.n;
    return b.p;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* A zlib stream of stored (uncompressed) blocks: real zlib, no zlib needed. */
static void put_zlib_stored(bytes *b, const void *data, size_t len)
{
    const unsigned char *p = data;
    put_u8(b, 0x78);
    put_u8(b, 0x01);
    size_t at = 0;
    do {
        size_t k = len - at > 65535 ? 65535 : len - at;
        put_u8(b, at + k == len ? 1 : 0);
        put_u16le(b, (unsigned)k);
        put_u16le(b, (unsigned)(~k & 0xFFFF));
        put(b, p + at, k);
        at += k;
    } while (at < len);
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < len; i++) {
        s1 = (s1 + p[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    put_u32be(b, s2 << 16 | s1);
}

/* ---- what the fixtures carry ---- */

static const char *const secrets[] = {
    "CivicCam",           /* EXIF Make */
    "Model-X9",           /* EXIF Model */
    "SN-SECRET-0042",     /* EXIF BodySerialNumber */
    "XMP-SECRET-CREATOR", /* XMP dc:creator */
    "40,42.77N",          /* XMP exif:GPSLatitude */
};
#define N_SECRETS (sizeof secrets / sizeof secrets[0])

/* A little-endian TIFF structure, as EXIF is: IFD0 (Make, Model,
 * Orientation if asked, pointers to the Exif and GPS IFDs), the Exif IFD
 * (version, BodySerialNumber), the GPS IFD (version, latitude and
 * longitude: 40 deg 42' 46.11" N, 74 deg 0' 21.6" W). */
typedef struct {
    uint16_t tag, type;
    uint32_t count;
    const void *val; /* little-endian bytes, count x the type's size */
    int points_to;   /* > 0: the value is the offset of that IFD */
} tiff_entry;

static size_t tiff_type_size(uint16_t type)
{
    return type == 3 ? 2 : type == 4 ? 4 : type == 5 ? 8 : 1;
}

static void put_exif_tiff(bytes *b, int orientation)
{
    static const unsigned char lat[24] = {40, 0, 0, 0, 1, 0, 0, 0, 42, 0, 0, 0, 1, 0, 0, 0,
                                          0x03, 0x12, 0, 0, 100, 0, 0, 0};
    static const unsigned char lon[24] = {74, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                          0x70, 0x08, 0, 0, 100, 0, 0, 0};
    static const unsigned char gps_version[4] = {2, 3, 0, 0};
    unsigned char orient[2] = {(unsigned char)orientation, 0};
    tiff_entry ifd0[5], exif[2], gps[5];
    size_t n0 = 0;
    ifd0[n0++] = (tiff_entry){0x010F, 2, 9, "CivicCam", 0};
    ifd0[n0++] = (tiff_entry){0x0110, 2, 9, "Model-X9", 0};
    if (orientation != 0)
        ifd0[n0++] = (tiff_entry){0x0112, 3, 1, orient, 0};
    ifd0[n0++] = (tiff_entry){0x8769, 4, 1, NULL, 1};
    ifd0[n0++] = (tiff_entry){0x8825, 4, 1, NULL, 2};
    exif[0] = (tiff_entry){0x9000, 7, 4, "0230", 0};
    exif[1] = (tiff_entry){0xA431, 2, 15, "SN-SECRET-0042", 0};
    gps[0] = (tiff_entry){0x0000, 1, 4, gps_version, 0};
    gps[1] = (tiff_entry){0x0001, 2, 2, "N", 0};
    gps[2] = (tiff_entry){0x0002, 5, 3, lat, 0};
    gps[3] = (tiff_entry){0x0003, 2, 2, "W", 0};
    gps[4] = (tiff_entry){0x0004, 5, 3, lon, 0};
    const tiff_entry *ifds[3] = {ifd0, exif, gps};
    const size_t counts[3] = {n0, 2, 5};

    size_t off[3], at = 8;
    for (int i = 0; i < 3; i++) {
        off[i] = at;
        at += 2 + 12 * counts[i] + 4;
    }
    size_t data = at;
    put_str(b, "II*");
    put_u8(b, 0);
    put_u32le(b, 8);
    for (int i = 0; i < 3; i++) {
        put_u16le(b, (unsigned)counts[i]);
        for (size_t k = 0; k < counts[i]; k++) {
            const tiff_entry *e = &ifds[i][k];
            size_t size = e->count * tiff_type_size(e->type);
            put_u16le(b, e->tag);
            put_u16le(b, e->type);
            put_u32le(b, e->count);
            if (e->points_to > 0) {
                put_u32le(b, (uint32_t)off[e->points_to]);
            } else if (size <= 4) {
                static const unsigned char zero[4];
                put(b, e->val, size);
                put(b, zero, 4 - size);
            } else {
                put_u32le(b, (uint32_t)data);
                data += size + (size & 1);
            }
        }
        put_u32le(b, 0);
    }
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < counts[i]; k++) {
            const tiff_entry *e = &ifds[i][k];
            size_t size = e->count * tiff_type_size(e->type);
            if (e->points_to == 0 && size > 4) {
                put(b, e->val, size);
                if (size & 1)
                    put_u8(b, 0);
            }
        }
}

static const char xmp_packet[] =
    "<?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "
    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\">"
    "<dc:creator>XMP-SECRET-CREATOR</dc:creator><exif:GPSLatitude>40,42.77N</exif:GPSLatitude>"
    "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";

/* libvips's built-in sRGB or Display P3 profile: a real ICC profile. */
static bytes icc_profile(const char *name)
{
    bytes b = {0};
    VipsBlob *blob = NULL;
    if (vips_profile_load(name, &blob, NULL) != 0 || blob == NULL)
        abort();
    size_t len;
    const void *p = vips_blob_get(blob, &len);
    put(&b, p, len);
    vips_area_unref(VIPS_AREA(blob));
    return b;
}

/* ---- images ---- */

static void init(void)
{
    err_t err;
    if (photo_init(&err) != ERR_OK) {
        fprintf(stderr, "photo_init: %s\n", err.msg);
        abort();
    }
}

/* w x h sRGB, its quarters red (top left), green (top right), blue (bottom
 * left) and white (bottom right); or one colour if rgb is not NULL. */
static VipsImage *picture(int w, int h, const unsigned char *rgb)
{
    static const unsigned char quarter[4][3] = {
        {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    unsigned char *px = malloc((size_t)w * h * 3);
    if (px == NULL)
        abort();
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * 3,
                   rgb ? rgb : quarter[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    VipsImage *mem = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3,
                                                     VIPS_FORMAT_UCHAR);
    free(px);
    VipsImage *img = NULL;
    if (mem == NULL ||
        vips_copy(mem, &img, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) != 0)
        abort();
    g_object_unref(mem);
    return img;
}

/* w x h of noise, so that a JPEG of it has a lot of entropy-coded data. */
static VipsImage *noise(int w, int h)
{
    VipsImage *g = NULL, *u = NULL, *rgb = NULL, *img = NULL;
    if (vips_gaussnoise(&g, w, h, "mean", 128.0, "sigma", 40.0, NULL) ||
        vips_cast(g, &u, VIPS_FORMAT_UCHAR, NULL) ||
        vips_bandjoin_const1(u, &rgb, 0.0, NULL) ||
        vips_bandjoin_const1(rgb, &img, 255.0, NULL))
        abort();
    VipsImage *out = NULL;
    if (vips_copy(img, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
        abort();
    g_object_unref(g);
    g_object_unref(u);
    g_object_unref(rgb);
    g_object_unref(img);
    return out;
}

/* img encoded as type by libvips, with whatever metadata img carries;
 * malloc'd. */
static unsigned char *encode(VipsImage *img, photo_type type, size_t *len)
{
    void *buf = NULL;
    int rc = type == PHOTO_JPEG  ? vips_jpegsave_buffer(img, &buf, len, "Q", 90, NULL)
             : type == PHOTO_PNG ? vips_pngsave_buffer(img, &buf, len, NULL)
                                 : vips_webpsave_buffer(img, &buf, len, "Q", 90, NULL);
    if (rc != 0)
        abort();
    unsigned char *copy = malloc(*len);
    if (copy == NULL)
        abort();
    memcpy(copy, buf, *len);
    g_free(buf);
    return copy;
}

/* Decodes bytes of the given type in full; NULL if libvips refuses. */
static VipsImage *decode(const unsigned char *data, size_t len, photo_type type)
{
    VipsImage *img = NULL;
    void *buf = (void *)data;
    int rc = type == PHOTO_JPEG  ? vips_jpegload_buffer(buf, len, &img, "fail_on",
                                                        VIPS_FAIL_ON_ERROR, NULL)
             : type == PHOTO_PNG ? vips_pngload_buffer(buf, len, &img, "fail_on",
                                                       VIPS_FAIL_ON_ERROR, NULL)
                                 : vips_webpload_buffer(buf, len, &img, "fail_on",
                                                        VIPS_FAIL_ON_ERROR, NULL);
    if (rc != 0)
        return NULL;
    /* Force every pixel, so a decode error shows here. */
    VipsImage *mem = vips_image_copy_memory(img);
    g_object_unref(img);
    return mem;
}

static int near_or_say(VipsImage *img, int x, int y, int r, int g, int b, int tol, int say)
{
    double *v = NULL;
    int n = 0;
    if (vips_getpoint(img, &v, &n, x, y, NULL) != 0 || n < 3)
        return 0;
    int ok = abs((int)v[0] - r) <= tol && abs((int)v[1] - g) <= tol && abs((int)v[2] - b) <= tol;
    if (!ok && say)
        fprintf(stderr, "pixel (%d,%d) is %g,%g,%g; want %d,%d,%d\n", x, y, v[0], v[1], v[2], r,
                g, b);
    g_free(v);
    return ok;
}

/* True if the pixel at x, y is within tol of r, g, b; says so if not. */
static int near(VipsImage *img, int x, int y, int r, int g, int b, int tol)
{
    return near_or_say(img, x, y, r, g, b, tol, 1);
}

/* True if img (as decoded by libvips) has a field whose name holds s. */
static int has_field(VipsImage *img, const char *s)
{
    gchar **f = vips_image_get_fields(img);
    int found = 0;
    for (size_t i = 0; f[i] != NULL; i++)
        found |= strstr(f[i], s) != NULL;
    g_strfreev(f);
    return found;
}

/* ---- walking the three formats ---- */

/* The markers of a JPEG's segments, in order (max of them kept), and how
 * many there are; -1 if it is not well formed up to its EOI. */
static int jpeg_markers(const unsigned char *p, size_t n, unsigned char *markers, int max)
{
    if (n < 2 || p[0] != 0xFF || p[1] != 0xD8)
        return -1;
    size_t at = 2;
    int count = 0;
    while (at + 2 <= n) {
        if (p[at] != 0xFF)
            return -1;
        while (at < n && p[at] == 0xFF)
            at++;
        if (at >= n)
            return -1;
        unsigned char m = p[at++];
        if (count < max)
            markers[count] = m;
        count++;
        if (m == 0xD9)
            return count;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;
        if (at + 2 > n)
            return -1;
        size_t len = (size_t)p[at] << 8 | p[at + 1];
        if (len < 2 || at + len > n)
            return -1;
        at += len;
        if (m == 0xDA) { /* entropy-coded data up to the next marker */
            while (at + 1 < n && !(p[at] == 0xFF && p[at + 1] != 0x00 &&
                                   !(p[at + 1] >= 0xD0 && p[at + 1] <= 0xD7)))
                at++;
        }
    }
    return -1;
}

static int has_marker(const unsigned char *m, int n, unsigned char want)
{
    for (int i = 0; i < n; i++)
        if (m[i] == want)
            return 1;
    return 0;
}

/* The types of a PNG's chunks, 4 chars each, up to max; -1 if a chunk's
 * length or CRC is wrong or there is no IEND. */
static int png_chunks(const unsigned char *p, size_t n, char (*types)[5], int max)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n < 8 || memcmp(p, sig, 8) != 0)
        return -1;
    size_t at = 8;
    int count = 0;
    while (at + 12 <= n) {
        uint32_t len = get_u32be(p + at);
        if (len > n - at - 12)
            return -1;
        if (crc32_of(p + at + 4, 4 + (size_t)len) != get_u32be(p + at + 8 + len))
            return -1;
        if (count < max) {
            memcpy(types[count], p + at + 4, 4);
            types[count][4] = '\0';
        }
        count++;
        if (memcmp(p + at + 4, "IEND", 4) == 0)
            return count;
        at += 12 + (size_t)len;
    }
    return -1;
}

static int has_chunk(char (*types)[5], int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(types[i], want) == 0)
            return 1;
    return 0;
}

/* The fourccs of a WebP's RIFF chunks; -1 if the RIFF size or a chunk's
 * size is wrong. *vp8x_flags gets the VP8X chunk's flag byte (0 if none). */
static int webp_chunks(const unsigned char *p, size_t n, char (*types)[5], int max,
                       unsigned *vp8x_flags)
{
    *vp8x_flags = 0;
    if (n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0 ||
        get_u32le(p + 4) != n - 8)
        return -1;
    size_t at = 12;
    int count = 0;
    while (at < n) {
        if (n - at < 8)
            return -1;
        uint32_t len = get_u32le(p + at + 4);
        size_t padded = (size_t)len + (len & 1);
        if (padded > n - at - 8)
            return -1;
        if (count < max) {
            memcpy(types[count], p + at, 4);
            types[count][4] = '\0';
        }
        if (memcmp(p + at, "VP8X", 4) == 0 && len >= 1)
            *vp8x_flags = p[at + 8];
        count++;
        at += 8 + padded;
    }
    return count;
}

/* ---- fixtures with metadata ---- */

/* A JPEG of img with, after SOI: APP1 Exif (GPS, Make, Model, serial;
 * Orientation if not 0), APP1 XMP, APP2 ICC profile (libvips's built-in
 * one of that name), APP13 IPTC, COM. */
static unsigned char *jpeg_with_metadata(VipsImage *img, int orientation, const char *profile,
                                         size_t *len)
{
    size_t base_len;
    unsigned char *base = encode(img, PHOTO_JPEG, &base_len);
    bytes seg = {0}, exif = {0}, icc = icc_profile(profile);

    put_str(&exif, "Exif");
    put_u16be(&exif, 0);
    put_exif_tiff(&exif, orientation);
    put_u16be(&seg, 0xFFE1);
    put_u16be(&seg, (unsigned)exif.n + 2);
    put(&seg, exif.p, exif.n);

    static const char xmp_ns[] = "http://ns.adobe.com/xap/1.0/";
    put_u16be(&seg, 0xFFE1);
    put_u16be(&seg, (unsigned)(sizeof xmp_ns + strlen(xmp_packet)) + 2);
    put(&seg, xmp_ns, sizeof xmp_ns);
    put_str(&seg, xmp_packet);

    static const char icc_id[] = "ICC_PROFILE";
    put_u16be(&seg, 0xFFE2);
    put_u16be(&seg, (unsigned)(sizeof icc_id + 2 + icc.n) + 2);
    put(&seg, icc_id, sizeof icc_id);
    put_u8(&seg, 1);
    put_u8(&seg, 1);
    put(&seg, icc.p, icc.n);

    /* Photoshop 3.0 / 8BIM 0x0404 (IPTC) / dataset 2:80 By-line. */
    static const char by_line[] = "IPTC-SECRET-BYLINE";
    bytes iptc = {0};
    put_u8(&iptc, 0x1C);
    put_u8(&iptc, 2);
    put_u8(&iptc, 80);
    put_u16be(&iptc, (unsigned)strlen(by_line));
    put_str(&iptc, by_line);
    if (iptc.n & 1)
        put_u8(&iptc, 0);
    static const char ps[] = "Photoshop 3.0";
    put_u16be(&seg, 0xFFED);
    put_u16be(&seg, (unsigned)(sizeof ps + 4 + 2 + 2 + 4 + iptc.n) + 2);
    put(&seg, ps, sizeof ps);
    put_str(&seg, "8BIM");
    put_u16be(&seg, 0x0404);
    put_u16be(&seg, 0); /* empty Pascal name, padded */
    put_u32be(&seg, (uint32_t)iptc.n);
    put(&seg, iptc.p, iptc.n);

    static const char comment[] = "COM-SECRET-COMMENT";
    put_u16be(&seg, 0xFFFE);
    put_u16be(&seg, (unsigned)strlen(comment) + 2);
    put_str(&seg, comment);

    unsigned char *out = splice(base, base_len, 2, &seg, len);
    free(base);
    free(seg.p);
    free(exif.p);
    free(icc.p);
    free(iptc.p);
    return out;
}

static void put_png_chunk(bytes *b, const char *type, const bytes *data)
{
    put_u32be(b, (uint32_t)data->n);
    size_t start = b->n;
    put(b, type, 4);
    put(b, data->p, data->n);
    put_u32be(b, crc32_of(b->p + start, 4 + data->n));
}

/* A PNG of img with, after IHDR: iCCP, eXIf (GPS, Make, Model, serial),
 * tEXt, zTXt, iTXt (XMP). */
static unsigned char *png_with_metadata(VipsImage *img, const char *profile, size_t *len)
{
    size_t base_len;
    unsigned char *base = encode(img, PHOTO_PNG, &base_len);
    bytes chunks = {0}, d = {0}, icc = icc_profile(profile);

    put(&d, "sRGB-ish\0", 10); /* name, NUL, method 0 */
    put_zlib_stored(&d, icc.p, icc.n);
    put_png_chunk(&chunks, "iCCP", &d);
    d.n = 0;
    put_exif_tiff(&d, 0);
    put_png_chunk(&chunks, "eXIf", &d);
    d.n = 0;
    put(&d, "Comment\0TEXT-SECRET-COMMENT", 27);
    put_png_chunk(&chunks, "tEXt", &d);
    d.n = 0;
    put(&d, "Author\0\0", 8); /* keyword, NUL, method 0 */
    put_zlib_stored(&d, "ZTXT-SECRET-AUTHOR", 18);
    put_png_chunk(&chunks, "zTXt", &d);
    d.n = 0;
    put(&d, "XML:com.adobe.xmp\0\0\0\0\0", 22); /* uncompressed, no lang */
    put_str(&d, xmp_packet);
    put_png_chunk(&chunks, "iTXt", &d);

    unsigned char *out = splice(base, base_len, 33, &chunks, len); /* after IHDR */
    free(base);
    free(chunks.p);
    free(d.p);
    free(icc.p);
    return out;
}

/* A WebP of img that libvips writes with EXIF, XMP and ICCP chunks. */
static unsigned char *webp_with_metadata(VipsImage *img, const char *profile, size_t *len)
{
    bytes exif = {0}, icc = icc_profile(profile);
    put_str(&exif, "Exif");
    put_u16be(&exif, 0);
    put_exif_tiff(&exif, 0);
    VipsImage *meta = NULL;
    if (vips_copy(img, &meta, NULL) != 0)
        abort();
    vips_image_set_blob_copy(meta, VIPS_META_EXIF_NAME, exif.p, exif.n);
    vips_image_set_blob_copy(meta, VIPS_META_XMP_NAME, xmp_packet, strlen(xmp_packet));
    vips_image_set_blob_copy(meta, VIPS_META_ICC_NAME, icc.p, icc.n);
    unsigned char *out = encode(meta, PHOTO_WEBP, len);
    g_object_unref(meta);
    free(exif.p);
    free(icc.p);
    return out;
}

/* ---- the tests ---- */

static unsigned char *clean(const unsigned char *in, size_t len, const photo_limits *lim,
                            size_t *out_len, photo_type *type, uint32_t *w, uint32_t *h,
                            err_t *err)
{
    unsigned char *out = NULL;
    err_code rc = photo_clean(in, len, lim, &out, out_len, type, w, h, err);
    if (rc != ERR_OK) {
        CHECK(out == NULL);
        return NULL;
    }
    return out;
}

static void check_no_secrets(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < N_SECRETS; i++)
        if (contains(p, n, secrets[i])) {
            fprintf(stderr, "output holds \"%s\"\n", secrets[i]);
            CHECK(!"a secret survived");
        }
    CHECK(!contains(p, n, "acsp"));        /* any ICC profile's signature */
    CHECK(!contains(p, n, "Exif"));        /* an EXIF block's header */
    CHECK(!contains(p, n, "ns.adobe.com")); /* XMP */
}

static void test_jpeg_metadata_removed(void)
{
    init();
    VipsImage *img = picture(96, 64, NULL);
    size_t len;
    unsigned char *in = jpeg_with_metadata(img, 0, "srgb", &len);
    g_object_unref(img);

    /* The input really carries all of it, so this test can fail. */
    unsigned char m[64];
    int n = jpeg_markers(in, len, m, 64);
    REQUIRE(n > 0 && n <= 64);
    CHECK(has_marker(m, n, 0xE1) && has_marker(m, n, 0xE2) && has_marker(m, n, 0xED) &&
          has_marker(m, n, 0xFE));
    for (size_t i = 0; i < N_SECRETS; i++)
        CHECK(contains(in, len, secrets[i]));
    CHECK(contains(in, len, "IPTC-SECRET-BYLINE") && contains(in, len, "COM-SECRET-COMMENT") &&
          contains(in, len, "ICC_PROFILE") && contains(in, len, "acsp"));
    VipsImage *seen = decode(in, len, PHOTO_JPEG);
    REQUIRE(seen != NULL);
    CHECK(has_field(seen, "GPSLatitude") && has_field(seen, "Make") &&
          has_field(seen, VIPS_META_XMP_NAME) && has_field(seen, VIPS_META_ICC_NAME) &&
          has_field(seen, VIPS_META_IPTC_NAME));
    g_object_unref(seen);

    size_t out_len = 0;
    photo_type type = PHOTO_PNG;
    uint32_t w = 0, h = 0;
    err_t err = {0};
    unsigned char *out = clean(in, len, NULL, &out_len, &type, &w, &h, &err);
    REQUIRE(out != NULL);
    CHECK_INT(type, PHOTO_JPEG);
    CHECK_INT(w, 96);
    CHECK_INT(h, 64);

    n = jpeg_markers(out, out_len, m, 64);
    REQUIRE(n > 0 && n <= 64);
    for (int i = 0; i < n; i++)
        if ((m[i] >= 0xE1 && m[i] <= 0xEF) || m[i] == 0xFE) {
            fprintf(stderr, "output has marker FF%02X\n", m[i]);
            CHECK(!"an APPn (n > 0) or COM segment survived");
        }
    check_no_secrets(out, out_len);
    CHECK(!contains(out, out_len, "IPTC-SECRET-BYLINE"));
    CHECK(!contains(out, out_len, "COM-SECRET-COMMENT"));
    CHECK(!contains(out, out_len, "ICC_PROFILE"));
    CHECK(!contains(out, out_len, "Photoshop"));

    VipsImage *again = decode(out, out_len, PHOTO_JPEG);
    REQUIRE(again != NULL);
    CHECK(!has_field(again, "exif") && !has_field(again, VIPS_META_XMP_NAME) &&
          !has_field(again, VIPS_META_ICC_NAME) && !has_field(again, VIPS_META_IPTC_NAME));
    CHECK(near(again, 5, 5, 255, 0, 0, 40));
    CHECK(near(again, 90, 58, 255, 255, 255, 40));
    g_object_unref(again);
    free(in);
    free(out);
}

static void test_png_metadata_removed(void)
{
    init();
    VipsImage *img = picture(40, 30, NULL);
    size_t len;
    unsigned char *in = png_with_metadata(img, "srgb", &len);
    g_object_unref(img);

    char t[64][5];
    int n = png_chunks(in, len, t, 64);
    REQUIRE(n > 0 && n <= 64);
    CHECK(has_chunk(t, n, "eXIf") && has_chunk(t, n, "tEXt") && has_chunk(t, n, "iTXt") &&
          has_chunk(t, n, "zTXt") && has_chunk(t, n, "iCCP"));
    for (size_t i = 0; i < N_SECRETS; i++)
        CHECK(contains(in, len, secrets[i]));
    CHECK(contains(in, len, "TEXT-SECRET-COMMENT") && contains(in, len, "ZTXT-SECRET-AUTHOR"));
    VipsImage *seen = decode(in, len, PHOTO_PNG);
    REQUIRE(seen != NULL);
    CHECK(has_field(seen, VIPS_META_ICC_NAME) && has_field(seen, VIPS_META_XMP_NAME) &&
          has_field(seen, VIPS_META_EXIF_NAME) && has_field(seen, "png-comment"));
    g_object_unref(seen);

    size_t out_len = 0;
    photo_type type = PHOTO_JPEG;
    err_t err = {0};
    unsigned char *out = clean(in, len, NULL, &out_len, &type, NULL, NULL, &err);
    REQUIRE(out != NULL);
    CHECK_INT(type, PHOTO_PNG);
    n = png_chunks(out, out_len, t, 64);
    REQUIRE(n > 0 && n <= 64);
    /* Only the picture itself: header, palette/transparency, data, end,
     * and the pixel density. */
    for (int i = 0; i < n; i++)
        if (strcmp(t[i], "IHDR") != 0 && strcmp(t[i], "PLTE") != 0 &&
            strcmp(t[i], "tRNS") != 0 && strcmp(t[i], "IDAT") != 0 &&
            strcmp(t[i], "IEND") != 0 && strcmp(t[i], "pHYs") != 0) {
            fprintf(stderr, "output has a %s chunk\n", t[i]);
            CHECK(!"a chunk other than the picture's survived");
        }
    check_no_secrets(out, out_len);
    CHECK(!contains(out, out_len, "TEXT-SECRET-COMMENT"));
    CHECK(!contains(out, out_len, "ZTXT-SECRET-AUTHOR"));

    VipsImage *again = decode(out, out_len, PHOTO_PNG);
    REQUIRE(again != NULL);
    CHECK_INT(vips_image_get_width(again), 40);
    CHECK_INT(vips_image_get_height(again), 30);
    CHECK(near(again, 0, 0, 255, 0, 0, 0)); /* lossless */
    CHECK(near(again, 39, 0, 0, 255, 0, 0));
    CHECK(near(again, 0, 29, 0, 0, 255, 0));
    CHECK(!has_field(again, "exif") && !has_field(again, VIPS_META_XMP_NAME) &&
          !has_field(again, VIPS_META_ICC_NAME) && !has_field(again, "png-comment"));
    g_object_unref(again);
    free(in);
    free(out);
}

static void test_webp_metadata_removed(void)
{
    init();
    VipsImage *img = picture(40, 30, NULL);
    size_t len;
    unsigned char *in = webp_with_metadata(img, "srgb", &len);
    g_object_unref(img);

    char t[32][5];
    unsigned flags;
    int n = webp_chunks(in, len, t, 32, &flags);
    REQUIRE(n > 0 && n <= 32);
    CHECK(has_chunk(t, n, "EXIF") && has_chunk(t, n, "XMP ") && has_chunk(t, n, "ICCP"));
    CHECK((flags & 0x2C) == 0x2C); /* VP8X says ICC, EXIF and XMP */
    for (size_t i = 0; i < N_SECRETS; i++)
        CHECK(contains(in, len, secrets[i]));

    size_t out_len = 0;
    photo_type type = PHOTO_JPEG;
    uint32_t w = 0, h = 0;
    err_t err = {0};
    unsigned char *out = clean(in, len, NULL, &out_len, &type, &w, &h, &err);
    REQUIRE(out != NULL);
    CHECK_INT(type, PHOTO_WEBP);
    CHECK_INT(w, 40);
    CHECK_INT(h, 30);
    n = webp_chunks(out, out_len, t, 32, &flags);
    REQUIRE(n > 0 && n <= 32);
    for (int i = 0; i < n; i++)
        if (strcmp(t[i], "VP8 ") != 0 && strcmp(t[i], "VP8L") != 0 &&
            strcmp(t[i], "VP8X") != 0 && strcmp(t[i], "ALPH") != 0) {
            fprintf(stderr, "output has a %s chunk\n", t[i]);
            CHECK(!"a chunk other than the picture's survived");
        }
    CHECK((flags & 0x2C) == 0);
    check_no_secrets(out, out_len);

    VipsImage *again = decode(out, out_len, PHOTO_WEBP);
    REQUIRE(again != NULL);
    CHECK(near(again, 2, 2, 255, 0, 0, 40));
    CHECK(!has_field(again, "exif") && !has_field(again, VIPS_META_XMP_NAME) &&
          !has_field(again, VIPS_META_ICC_NAME));
    g_object_unref(again);
    free(in);
    free(out);
}

/* Orientation 6: the camera was turned a quarter clockwise; the stored
 * 64 x 32 picture is shown 32 x 64, its top left corner at the top right. */
static void test_orientation_applied(void)
{
    init();
    VipsImage *img = picture(64, 32, NULL);
    size_t len;
    unsigned char *in = jpeg_with_metadata(img, 6, "srgb", &len);
    g_object_unref(img);
    VipsImage *seen = decode(in, len, PHOTO_JPEG);
    REQUIRE(seen != NULL);
    CHECK_INT(vips_image_get_orientation(seen), 6);
    g_object_unref(seen);

    size_t out_len = 0;
    uint32_t w = 0, h = 0;
    err_t err = {0};
    unsigned char *out = clean(in, len, NULL, &out_len, NULL, &w, &h, &err);
    REQUIRE(out != NULL);
    CHECK_INT(w, 32);
    CHECK_INT(h, 64);
    VipsImage *again = decode(out, out_len, PHOTO_JPEG);
    REQUIRE(again != NULL);
    CHECK_INT(vips_image_get_width(again), 32);
    CHECK_INT(vips_image_get_height(again), 64);
    CHECK_INT(vips_image_get_orientation(again), 1); /* no tag left to turn it again */
    CHECK(near(again, 2, 2, 0, 0, 255, 40));         /* was bottom left: blue */
    CHECK(near(again, 29, 2, 255, 0, 0, 40));        /* was top left: red */
    CHECK(near(again, 2, 61, 255, 255, 255, 40));    /* was bottom right: white */
    CHECK(near(again, 29, 61, 0, 255, 0, 40));       /* was top right: green */
    g_object_unref(again);

    /* With max_side too: the longest side is capped after the turn. */
    photo_limits lim;
    photo_limits_default(&lim);
    lim.max_side = 16;
    free(out);
    out = clean(in, len, &lim, &out_len, NULL, &w, &h, &err);
    REQUIRE(out != NULL);
    CHECK_INT(w, 8);
    CHECK_INT(h, 16);
    free(in);
    free(out);
}

static void check_refused(const unsigned char *data, size_t len, const photo_limits *lim,
                          err_code code, const char *msg)
{
    size_t out_len = 99;
    unsigned char *out = (unsigned char *)"x";
    err_t err = {0};
    err_code rc = photo_clean(data, len, lim, &out, &out_len, NULL, NULL, NULL, &err);
    CHECK_INT(rc, code);
    CHECK_STR(err.msg, msg);
    CHECK(out == NULL);
    CHECK_INT(out_len, 0);
}

static const char not_image[] = "the file is not a JPEG, PNG or WebP image";
static const char unreadable[] = "the image could not be read";

static void test_refused(void)
{
    init();
    /* A text file named photo.jpg: names are never looked at. */
    static const char text[] = "Dear 311, the pothole on Main St is back.\n";
    check_refused((const unsigned char *)text, strlen(text), NULL, ERR_INVALID, not_image);

    /* A PNG signature, then junk. */
    bytes junk = {0};
    put(&junk, "\x89PNG\r\n\x1a\n", 8);
    for (int i = 0; i < 200; i++)
        put_u8(&junk, 'x');
    check_refused(junk.p, junk.n, NULL, ERR_INVALID, unreadable);
    free(junk.p);

    /* Truncated, of each type: refused, not padded with grey. */
    VipsImage *img = noise(256, 192);
    for (photo_type t = PHOTO_JPEG; t <= PHOTO_WEBP; t++) {
        size_t len;
        unsigned char *full = encode(img, t, &len);
        size_t out_len;
        err_t err;
        unsigned char *out = clean(full, len, NULL, &out_len, NULL, NULL, NULL, &err);
        CHECK(out != NULL); /* whole, it is fine */
        free(out);
        check_refused(full, len / 2, NULL, ERR_INVALID, unreadable);
        check_refused(full, len - 16, NULL, ERR_INVALID, unreadable);
        free(full);
    }

    /* GIF, made by libvips, and SVG: real images, not ones we take. */
    void *gif = NULL;
    size_t gif_len = 0;
    REQUIRE(vips_gifsave_buffer(img, &gif, &gif_len, NULL) == 0);
    CHECK(gif_len > 6 && memcmp(gif, "GIF8", 4) == 0);
    check_refused(gif, gif_len, NULL, ERR_INVALID, not_image);
    g_free(gif);
    g_object_unref(img);
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
                              "height=\"10\"><rect width=\"10\" height=\"10\"/></svg>";
    check_refused((const unsigned char *)svg, strlen(svg), NULL, ERR_INVALID, not_image);

    /* Empty, with and without a pointer; a signature alone; RIFF not WebP. */
    check_refused((const unsigned char *)"", 0, NULL, ERR_INVALID, not_image);
    check_refused(NULL, 0, NULL, ERR_INVALID, not_image);
    check_refused((const unsigned char *)"\xff\xd8\xff", 3, NULL, ERR_INVALID, unreadable);
    check_refused((const unsigned char *)"\xff\xd8", 2, NULL, ERR_INVALID, not_image);
    check_refused((const unsigned char *)"RIFF\x04\0\0\0WAVE", 12, NULL, ERR_INVALID, not_image);
    check_refused((const unsigned char *)"RIFF\x04\0\0\0WEBP", 12, NULL, ERR_INVALID, unreadable);

    /* A JPEG with a broken ICC profile is still a photo: kept, not refused. */
    VipsImage *small = picture(32, 32, NULL);
    size_t len;
    unsigned char *base = encode(small, PHOTO_JPEG, &len);
    g_object_unref(small);
    bytes seg = {0};
    put_u16be(&seg, 0xFFE2);
    put_u16be(&seg, 2 + 12 + 2 + 128);
    put(&seg, "ICC_PROFILE\0\1\1", 14);
    for (int i = 0; i < 128; i++)
        put_u8(&seg, (unsigned)(i * 7));
    size_t bad_len;
    unsigned char *bad = splice(base, len, 2, &seg, &bad_len);
    VipsImage *seen = decode(bad, bad_len, PHOTO_JPEG);
    REQUIRE(seen != NULL);
    CHECK(has_field(seen, VIPS_META_ICC_NAME));
    g_object_unref(seen);
    size_t out_len;
    err_t err;
    unsigned char *out = clean(bad, bad_len, NULL, &out_len, NULL, NULL, NULL, &err);
    CHECK(out != NULL);
    if (out != NULL)
        CHECK(!contains(out, out_len, "ICC_PROFILE"));
    free(out);
    free(bad);
    free(base);
    free(seg.p);
}

/* A PNG whose IHDR declares w x h, with a few bytes of IDAT. */
static bytes png_declaring(uint32_t w, uint32_t h)
{
    bytes b = {0}, d = {0};
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    put_u32be(&d, w);
    put_u32be(&d, h);
    put(&d, "\x08\x02\x00\x00\x00", 5); /* 8-bit RGB, no interlace */
    put_png_chunk(&b, "IHDR", &d);
    d.n = 0;
    put_zlib_stored(&d, "\0\0\0\0\0\0\0", 7);
    put_png_chunk(&b, "IDAT", &d);
    d.n = 0;
    put_png_chunk(&b, "IEND", &d);
    free(d.p);
    return b;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_pixel_limit(void)
{
    init();
    /* 10^10 pixels declared (30 GB as RGB), refused from the header: in
     * well under a second and without the memory growing. */
    bytes huge = png_declaring(100000, 100000);
    long rss = max_rss_kb();
    double t0 = now();
    check_refused(huge.p, huge.n, NULL, ERR_TOO_LARGE, "the image has too many pixels");
    CHECK(now() - t0 < 1.0);
    CHECK(max_rss_kb() - rss < 64 * 1024);
    free(huge.p);

    /* The limit is on width x height, exact at the boundary. */
    VipsImage *img = picture(64, 32, NULL);
    size_t len;
    unsigned char *png = encode(img, PHOTO_PNG, &len);
    g_object_unref(img);
    photo_limits lim;
    photo_limits_default(&lim);
    lim.max_pixels = 64 * 32 - 1;
    check_refused(png, len, &lim, ERR_TOO_LARGE, "the image has too many pixels");
    lim.max_pixels = 64 * 32;
    size_t out_len;
    err_t err;
    unsigned char *out = clean(png, len, &lim, &out_len, NULL, NULL, NULL, &err);
    CHECK(out != NULL);
    free(out);
    free(png);

    /* A chunk claiming 2 GB in a 67-byte file: libpng would allocate and
     * clear the 2 GB before reading it (half a minute; found by
     * fuzz_photo). Refused before libpng sees it. */
    bytes liar = png_declaring(16, 12);
    liar.n = 33; /* signature and IHDR */
    put_u32be(&liar, 0x7FFF0000u);
    put_str(&liar, "iTXt");
    put(&liar, "XML:com.adobe.xmp\0\0\0\0\0<x/>", 26);
    rss = max_rss_kb();
    t0 = now();
    check_refused(liar.p, liar.n, NULL, ERR_INVALID, unreadable);
    CHECK(now() - t0 < 1.0);
    CHECK(max_rss_kb() - rss < 64 * 1024);
    free(liar.p);

    /* A declared size over the limit is refused even when the file is junk
     * after the header: nothing past it was read. */
    bytes small = png_declaring(2000, 2000);
    lim.max_pixels = 1000 * 1000;
    check_refused(small.p, small.n, &lim, ERR_TOO_LARGE, "the image has too many pixels");
    free(small.p);
}

static void test_byte_limit(void)
{
    init();
    VipsImage *img = picture(64, 32, NULL);
    size_t len;
    unsigned char *jpg = encode(img, PHOTO_JPEG, &len);
    g_object_unref(img);
    photo_limits lim;
    photo_limits_default(&lim);
    lim.max_bytes = len - 1;
    char msg[ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "the image is too large (at most %zu bytes)", len - 1);
    check_refused(jpg, len, &lim, ERR_TOO_LARGE, msg);
    lim.max_bytes = len;
    size_t out_len;
    err_t err;
    unsigned char *out = clean(jpg, len, &lim, &out_len, NULL, NULL, NULL, &err);
    CHECK(out != NULL);
    free(out);

    /* Bytes are counted before anything is looked at: even text. */
    static const char text[] = "not an image at all, and too long";
    lim.max_bytes = 10;
    check_refused((const unsigned char *)text, strlen(text), &lim, ERR_TOO_LARGE,
                  "the image is too large (at most 10 bytes)");

    /* The limit in the units a resident thinks in. */
    photo_limits_default(&lim);
    unsigned char *big = calloc(lim.max_bytes + 1, 1);
    REQUIRE(big != NULL);
    check_refused(big, lim.max_bytes + 1, &lim, ERR_TOO_LARGE,
                  "the image is too large (at most 10 MB)");
    lim.max_bytes = 64 * 1024;
    check_refused(big, lim.max_bytes + 1, &lim, ERR_TOO_LARGE,
                  "the image is too large (at most 64 KB)");
    free(big);
    free(jpg);
}

static void test_max_side(void)
{
    init();
    photo_limits lim;
    photo_limits_default(&lim);
    lim.max_side = 100;
    VipsImage *img = picture(400, 300, NULL);
    for (photo_type t = PHOTO_JPEG; t <= PHOTO_WEBP; t++) {
        size_t len;
        unsigned char *in = encode(img, t, &len);
        size_t out_len;
        photo_type type = t == PHOTO_JPEG ? PHOTO_PNG : PHOTO_JPEG;
        uint32_t w = 0, h = 0;
        err_t err;
        unsigned char *out = clean(in, len, &lim, &out_len, &type, &w, &h, &err);
        REQUIRE(out != NULL);
        CHECK_INT(type, t);
        CHECK_INT(w, 100);
        CHECK_INT(h, 75);
        /* The output is what it says, and decodes to that size. */
        photo_type sniffed;
        CHECK(photo_sniff(out, out_len, &sniffed, &err) == ERR_OK && sniffed == t);
        VipsImage *again = decode(out, out_len, t);
        REQUIRE(again != NULL);
        CHECK_INT(vips_image_get_width(again), 100);
        CHECK_INT(vips_image_get_height(again), 75);
        CHECK(near(again, 10, 10, 255, 0, 0, 40));
        CHECK(near(again, 90, 65, 255, 255, 255, 40));
        g_object_unref(again);
        free(in);
        free(out);
    }
    g_object_unref(img);

    /* Never enlarged. */
    img = picture(50, 20, NULL);
    size_t len;
    unsigned char *in = encode(img, PHOTO_PNG, &len);
    g_object_unref(img);
    size_t out_len;
    uint32_t w = 0, h = 0;
    err_t err;
    unsigned char *out = clean(in, len, &lim, &out_len, NULL, &w, &h, &err);
    CHECK(out != NULL);
    CHECK_INT(w, 50);
    CHECK_INT(h, 20);
    free(out);
    free(in);
}

/* A picture in Display P3 comes out in sRGB, so losing the profile does
 * not change how it looks: P3's pure red is (234, 51, 35) in P3 terms and
 * must come out as sRGB's (255, 0, 0), not as those numbers read as sRGB. */
static void test_profile_converted(void)
{
    init();
    static const unsigned char red[3] = {255, 0, 0};
    VipsImage *img = picture(16, 16, red), *p3 = NULL;
    REQUIRE(vips_icc_transform(img, &p3, "p3", "input_profile", "srgb", "embedded", FALSE,
                               NULL) == 0);
    g_object_unref(img);
    size_t len;
    unsigned char *in = encode(p3, PHOTO_PNG, &len);
    VipsImage *seen = decode(in, len, PHOTO_PNG);
    REQUIRE(seen != NULL);
    CHECK(has_field(seen, VIPS_META_ICC_NAME));
    CHECK(!near_or_say(seen, 8, 8, 255, 0, 0, 6, 0)); /* the test can fail */
    g_object_unref(seen);
    g_object_unref(p3);

    size_t out_len;
    err_t err;
    unsigned char *out = clean(in, len, NULL, &out_len, NULL, NULL, NULL, &err);
    REQUIRE(out != NULL);
    VipsImage *again = decode(out, out_len, PHOTO_PNG);
    REQUIRE(again != NULL);
    CHECK(!has_field(again, VIPS_META_ICC_NAME));
    CHECK(near(again, 8, 8, 255, 0, 0, 6));
    g_object_unref(again);
    free(out);
    free(in);
}

static void test_sniff_and_mime(void)
{
    photo_type t;
    err_t err;
    CHECK(photo_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4, &t, &err) == ERR_OK &&
          t == PHOTO_JPEG);
    CHECK(photo_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8, &t, &err) == ERR_OK &&
          t == PHOTO_PNG);
    CHECK(photo_sniff((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16, &t, &err) == ERR_OK &&
          t == PHOTO_WEBP);
    CHECK_INT(photo_sniff((const unsigned char *)"\x89PNG\r\n\x1a", 7, &t, &err), ERR_INVALID);
    CHECK_STR(err.msg, not_image);
    CHECK_INT(photo_sniff((const unsigned char *)"GIF89a", 6, &t, &err), ERR_INVALID);
    CHECK_INT(photo_sniff((const unsigned char *)"II*\0", 4, &t, &err), ERR_INVALID);
    CHECK_STR(photo_mime(PHOTO_JPEG), "image/jpeg");
    CHECK_STR(photo_mime(PHOTO_PNG), "image/png");
    CHECK_STR(photo_mime(PHOTO_WEBP), "image/webp");
    photo_limits lim;
    photo_limits_default(&lim);
    CHECK_INT(lim.max_bytes, 10 * 1024 * 1024);
    CHECK_INT(lim.max_pixels, 40000000);
    CHECK_INT(lim.max_side, 2048);
}

/* ---- several threads at once ---- */

typedef struct {
    const unsigned char *in;
    size_t len;
    unsigned char *first; /* the first output, for comparing */
    size_t first_len;
    int failures;
} worker_job;

static void *worker(void *arg)
{
    worker_job *job = arg;
    for (int i = 0; i < 8; i++) {
        unsigned char *out = NULL;
        size_t out_len = 0;
        err_t err;
        if (photo_clean(job->in, job->len, NULL, &out, &out_len, NULL, NULL, NULL, &err) !=
            ERR_OK) {
            job->failures++;
            continue;
        }
        if (job->first == NULL) {
            job->first = out;
            job->first_len = out_len;
        } else {
            if (out_len != job->first_len || memcmp(out, job->first, out_len) != 0)
                job->failures++;
            free(out);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    init();
    VipsImage *img = picture(300, 200, NULL);
    size_t len;
    unsigned char *in = jpeg_with_metadata(img, 6, "srgb", &len);
    g_object_unref(img);
    worker_job jobs[4] = {{0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].in = in;
        jobs[i].len = len;
        REQUIRE(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(jobs[i].failures, 0);
        CHECK(jobs[i].first != NULL);
        if (jobs[i].first != NULL && jobs[0].first != NULL)
            CHECK(jobs[i].first_len == jobs[0].first_len &&
                  memcmp(jobs[i].first, jobs[0].first, jobs[0].first_len) == 0);
    }
    for (int i = 0; i < 4; i++)
        free(jobs[i].first);
    free(in);
}

/* Last: once stopped, libvips cannot start again, and photo.c says so. */
static void test_shutdown(void)
{
    init();
    err_t err;
    CHECK_INT(photo_init(&err), ERR_OK); /* twice is fine */
    photo_shutdown();
    photo_shutdown(); /* and so is stopping twice */
    unsigned char *out = NULL;
    size_t out_len;
    CHECK_INT(photo_clean((const unsigned char *)"\xff\xd8\xff", 3, NULL, &out, &out_len, NULL,
                          NULL, NULL, &err),
              ERR_INTERNAL);
    CHECK(out == NULL);
    CHECK_INT(photo_init(&err), ERR_INTERNAL);
}

/* ---- fixtures for the HTTP and browser tests ---- */

static int write_file(const char *dir, const char *name, const unsigned char *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "cannot write %s\n", path);
    return ok;
}

/* `test_photo --write-fixtures DIR`: the photos tests/api and tests/web
 * upload, with every kind of metadata photo_clean must remove (the
 * secrets[] above, GPS included): exif.jpg (EXIF orientation 6: stored
 * sideways, shown upright), exif.png and exif.webp, 96 x 64 quarters. */
static int write_fixtures(const char *dir)
{
    init();
    VipsImage *img = picture(96, 64, NULL);
    size_t n[3];
    unsigned char *f[3] = {jpeg_with_metadata(img, 6, "srgb", &n[0]),
                           png_with_metadata(img, "srgb", &n[1]),
                           webp_with_metadata(img, "srgb", &n[2])};
    g_object_unref(img);
    int ok = write_file(dir, "exif.jpg", f[0], n[0]) && write_file(dir, "exif.png", f[1], n[1]) &&
             write_file(dir, "exif.webp", f[2], n[2]);
    for (int i = 0; i < 3; i++)
        free(f[i]);
    photo_shutdown();
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-fixtures") == 0)
        return write_fixtures(argv[2]);
    static const testlib_case cases[] = {
        TEST(test_sniff_and_mime), TEST(test_jpeg_metadata_removed),
        TEST(test_png_metadata_removed), TEST(test_webp_metadata_removed),
        TEST(test_orientation_applied), TEST(test_refused), TEST(test_pixel_limit),
        TEST(test_byte_limit), TEST(test_max_side), TEST(test_profile_converted),
        TEST(test_threads), TEST(test_shutdown)};
    return testlib_run(cases, sizeof cases / sizeof cases[0]);
}

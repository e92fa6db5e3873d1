/*
 * photo.h - uploaded photos made safe to keep (P11): checked to be what
 * they claim by their content, never by name or declared type; decoded
 * and re-encoded with libvips, so that no metadata survives (EXIF with
 * camera GPS and device serials, XMP, IPTC, ICC profiles, comments,
 * thumbnails); orientation applied to the pixels first, so the picture
 * still stands the right way up without its EXIF tag; bounded in bytes,
 * pixels and dimensions before anything is decoded.
 *
 * The domain knows nothing of HTTP or storage: bytes in, clean bytes out.
 * The caller (web upload) hands the result to the privacy engine's vault,
 * which seals it.
 *
 * photo_init must run once in the process before any other call (it
 * starts libvips, with its operation cache off and no worker threads
 * beyond what a call needs); photo_shutdown at exit, after the last call:
 * libvips cannot start again in the same process, so photo_init fails
 * after it. Calls are safe from several threads at once.
 */
#ifndef CIVIC_MEDIA_PHOTO_H
#define CIVIC_MEDIA_PHOTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum {
    PHOTO_JPEG = 0,
    PHOTO_PNG,
    PHOTO_WEBP,
} photo_type;

typedef struct {
    size_t max_bytes;     /* upload size; default 10 MiB */
    uint32_t max_pixels;  /* width x height as the header declares them, checked before any
                             pixel is decoded; default 40 megapixels */
    uint32_t max_side;    /* longest side kept: larger images are shrunk to it; default 2048 */
} photo_limits;

void photo_limits_default(photo_limits *l);

err_code photo_init(err_t *err);
void photo_shutdown(void);

/* The type the bytes are, by their signature (JPEG FF D8 FF, PNG's 8-byte
 * signature, RIFF....WEBP); ERR_INVALID for anything else, with a message a
 * resident can act on ("the file is not a JPEG, PNG or WebP image"). */
err_code photo_sniff(const unsigned char *data, size_t len, photo_type *type, err_t *err);

/* "image/jpeg", "image/png", "image/webp". */
const char *photo_mime(photo_type t);

/*
 * Checks and cleans one upload: sniffs its type; refuses it if it is over
 * max_bytes, or its header declares more than max_pixels, or it does not
 * decode completely (a truncated or corrupt file; ERR_INVALID, "the image
 * could not be read"); applies the EXIF orientation; shrinks it so the
 * longest side is at most max_side; and re-encodes it in the same type
 * (JPEG quality 85, PNG, WebP quality 85) with every piece of metadata
 * stripped. *out is malloc'd (the caller frees it), *out_type the type.
 * The pixels come out 8-bit sRGB (or grey), converted from the ICC profile
 * the file had, if any, since the profile itself is removed.
 *
 * lim NULL means photo_limits_default; out_type, width and height (the
 * output's) may be NULL. Refusals: ERR_TOO_LARGE over max_bytes ("the
 * image is too large (at most 10 MB)") or max_pixels ("the image has too
 * many pixels"); ERR_INVALID for anything else wrong with what the
 * resident sent (the two messages above). ERR_NOMEM and ERR_INTERNAL
 * (photo_init has not run; a bug) are ours, not theirs. On any error *out
 * is NULL and *out_len 0. Error messages never hold file contents or names.
 */
err_code photo_clean(const unsigned char *data, size_t len, const photo_limits *lim,
                     unsigned char **out, size_t *out_len, photo_type *out_type,
                     uint32_t *width, uint32_t *height, err_t *err);

#endif

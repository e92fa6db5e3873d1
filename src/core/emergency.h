/*
 * emergency.h - does a report read like an emergency (I5)? 311 is for
 * non-emergencies: a gas smell, a fire, someone hurt, a live wire down
 * must be told "call 911" before anything is filed, on the web page and
 * on the Contact Center agent's screen, and a request filed anyway is
 * flagged for the emergency-assistance purpose.
 *
 * Two sources: the service itself (a service whose keywords or notice
 * say so, like the demo's outdoor gas smell), and the words of the
 * description, matched as whole words or phrases, case- and
 * accent-insensitively, in English and Spanish. False alarms cost a
 * resident one extra sentence to read; a missed emergency costs far more,
 * so the word list leans towards warning.
 *
 * Pure domain code: no I/O. Thread-safe (no state).
 */
#ifndef CIVIC_EMERGENCY_H
#define CIVIC_EMERGENCY_H

#include <stdbool.h>

#include "core/catalog.h"

typedef enum {
    EMERGENCY_NONE = 0,
    EMERGENCY_SERVICE,     /* the service is about a possible emergency */
    EMERGENCY_DESCRIPTION, /* the description reads like one */
} emergency_reason;

/* True if a service itself is about a possible emergency: one of its
 * comma-separated keywords is the word "emergency" or "emergencia" (or
 * the plural; any case; "non-emergency" is not), or its notice tells the
 * reader to call 911 about a danger the word list below names ("If you
 * smell gas now, call 911."; the word "emergency" alone names none). A
 * notice that only says to call 911 if things turn bad ("If the
 * intersection is dangerous now, call 911.") does not make the service an
 * emergency one. False for NULL. */
bool emergency_service(const service *sv);

/* True if text (UTF-8, may be NULL) contains one of the emergency words or
 * phrases as whole words (e.g. "fire", "smoke", "gas leak", "smell gas",
 * "injured", "bleeding", "unconscious", "not breathing", "gun", "shooting",
 * "stabbed", "live wire", "power line down", "carbon monoxide", "explosion",
 * "trapped", "drowning"; "incendio", "fuego", "humo", "fuga de gas",
 * "olor a gas", "herido", "sangrando", "inconsciente", "no respira",
 * "pistola", "disparos", "cable caído", "monóxido de carbono", "explosión",
 * "atrapado"...). "fireplace", "firework" permit or "smoked salmon" do not
 * match "fire"/"smoke" as words ("fire hydrant" does not count either: a
 * hydrant is a 311 report). Never logs or keeps the text, and allocates
 * nothing: linear time in its length. */
bool emergency_text(const char *text);

/* The service first, then the description. sv may be NULL (no service
 * chosen yet). */
emergency_reason emergency_check(const service *sv, const char *description);

#endif

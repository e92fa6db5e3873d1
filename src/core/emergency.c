/*
 * emergency.c - the I5 word list and its matcher: does a service, or the
 * words a resident typed, read like an emergency? See emergency.h.
 *
 * How text is read. The text is decoded as UTF-8 once, left to right, and
 * folded (util/fold.h) to words of lower-case ASCII letters and digits:
 * capitals are lowered, accents dropped (á->a, ñ->n, ü->u, ß->ss), and
 * everything else separates words. The matcher keeps only the next WINDOW words, in a fixed array on the stack:
 * no allocation, constant work per word, so time is linear in the text.
 *
 * How words match. A phrase is one or more words separated by single
 * spaces; a word may list alternatives with '|' ("smell|smells gas").
 * At each word of the text, the longest exclusion starting there (a known
 * false friend such as "fire hydrant") covers its words; an emergency
 * phrase starting there warns unless those words are all covered. So
 * "fire hydrant leaking" is quiet, "fire hydrant, and smoke" warns (on
 * "smoke"), and "smoke alarm going off" (an emergency phrase longer than
 * the exclusion "smoke alarm") warns.
 *
 * Never logs, keeps or returns any of the text. No state: thread-safe.
 */
#include "core/emergency.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/fold.h"

/* The words of the tables have at most WORD_MAX letters (the longest has
 * 19); a longer word of the text is kept cut short, marked, and matches
 * nothing. The longest phrase has at most WINDOW words (it has 7). */
enum { WORD_MAX = 24, WINDOW = 8 };

/*
 * The word list. Words are written as the text is folded: lower case, no
 * accents, and an apostrophe splits a word ("can't" is "can t").
 *
 * The list leans towards warning (emergency.h): a word that is often, but
 * not always, an emergency is on it ("fire", "smoke", "trapped"), and only
 * the common 311 uses of it that are never one are excluded below. Words
 * that are mostly not ("gas", "flood", "dying", "collapsed", "shot") count
 * only in the phrases that make them one.
 *
 * The tables are packed by hand, a group to a paragraph: clang-format would
 * put each phrase on a line of its own and the groups would be lost.
 */
/* clang-format off */
static const char *const DANGER[] = {
    /* Fire and smoke. "fireplace", "fireworks", "firefighters" and
     * "smoked" are other words; fire-safety equipment and places are
     * exclusions below. */
    "fire", "fires", "flame", "flames", "blaze", "ablaze", "wildfire", "burning", "smoke",
    "smoky", "smoldering", "smouldering",
    "smoke detector|detectors|alarm|alarms going|went|goes off",
    "smoke detector|detectors|alarm|alarms is|are|keeps|keep going off",
    "smoke detector|detectors|alarm|alarms sounding|ringing|blaring",
    "fuego", "incendio", "incendios", "incendiando", "incendiandose", "incendiado", "incendiada",
    "en llamas", "las llamas", "llamarada", "llamaradas", "humo", "humareda", "humeando",
    "quemando", "quemandose", "se quema", "ardiendo",
    "detector|detectores|alarma|alarmas de humo sonando|suena|suenan|sono|activada|activado",
    "detector|detectores|alarma|alarmas de humo esta|estan sonando",

    /* Gas. "gas" alone is a station, a stove, a leaf blower: only a leak
     * or a smell counts. Sewer gas is not excluded: people cannot tell
     * it from a gas leak, and the utility asks to hear of any gas smell. */
    "gas leak|leaks|leaking|escaping|explosion",
    "leak|leaks|leaking of gas", "leaking gas",
    "smell|smells|smelled|smelt|smelling gas",
    "smell|smells|smelled|smelt|smelling of|like gas",
    "smell|smells|smelled|smelt|smelling natural gas",
    "smell|smells|odor|odors|odour|odours of natural gas",
    "odor|odors|odour|odours of gas",
    "gas smell|smells|smelling|odor|odors|odour|odours",
    "broken|ruptured|damaged|cracked|leaking gas line|lines|main|mains|pipe|pipes",
    "gas line|lines|main|mains|pipe|pipes broken|broke|ruptured|damaged|burst|hit|cracked|leaking",
    "hit|struck|damaged|broke|cut|ruptured a|the gas line|lines|main|pipe",
    "fuga|fugas|escape|escapes|salida|perdida|perdidas|filtracion de gas",
    "olor|olores a|de gas", "olor|olores fuerte|fuertes a|de gas",
    "huele|huelo|olia|oler|oliendo a gas", "gas escapando|saliendo|filtrandose",
    "se sale|escapa el gas",
    "tuberia|tubo|caneria|linea de gas rota|roto|rotas|rotos|danada|danado|perforada|perforado",

    /* Carbon monoxide. A detector that is missing or beeping for a battery
     * is a housing complaint (an exclusion); one that is going off counts. */
    "carbon monoxide", "monoxide", "monoxido", "co poisoning",
    "carbon monoxide detector|detectors|alarm|alarms going|went|goes off",
    "carbon monoxide detector|detectors|alarm|alarms is|are|keeps|keep going off",
    "carbon monoxide detector|detectors|alarm|alarms sounding|ringing|blaring",
    "co detector|detectors|alarm|alarms going|went|goes off",
    "co detector|detectors|alarm|alarms is|are|keeps|keep going off",
    "co detector|detectors|alarm|alarms sounding|ringing|blaring",
    "detector|detectores|alarma|alarmas de monoxido sonando|suena|suenan|sono|activada|activado",
    "detector|detectores|alarma|alarmas de monoxido esta|estan sonando",
    "detector|detectores|alarma|alarmas de monoxido de carbono sonando|suena|suenan|sono",
    "detector|detectores|alarma|alarmas de monoxido de carbono esta|estan sonando",

    /* Injury and medical. "someone will get hurt" is a warning about a
     * hazard, not an injury: an exclusion. */
    "injured", "injury", "injuries", "hurt", "bleeding", "bleeds", "blood everywhere",
    "covered in blood", "lot|lots|pool of blood", "losing blood", "unconscious", "unresponsive",
    "passed out", "fainted", "not breathing", "stopped breathing", "isn|wasn|aren t breathing",
    "can|couldn t breathe|breath", "cannot|cant breathe|breath", "trouble|difficulty breathing",
    "no pulse", "heart attack", "cardiac arrest", "having a stroke", "seizure", "seizures",
    "seizing", "convulsing", "overdose", "overdosed", "overdosing", "choking", "ambulance",
    "paramedics", "dead body", "suicide", "suicidal", "threatening|trying|going to jump",
    "kill himself|herself|themselves|myself",
    "man|woman|person|someone|somebody|guy|lady|child|kid|baby|boy|girl|he|she|people "
    "collapsed|dying",
    "he|she s|is dying", "broken neck|leg|legs|arm|arms|bone|bones",
    "herido", "herida", "heridos", "heridas", "lesionado", "lesionada", "lesionados",
    "lesionadas", "lastimado", "lastimada", "lastimados", "lastimadas", "sangrando", "sangra",
    "desangrando", "desangrandose", "mucha sangre", "inconsciente", "inconscientes", "desmayado",
    "desmayada", "se desmayo", "desplomo", "no respira", "no respiraba", "no esta respirando",
    "no puede|podia respirar", "dejo de respirar", "ataque al corazon", "ataque cardiaco",
    "infarto", "paro cardiaco|cardiorrespiratorio|respiratorio", "convulsion", "convulsiones",
    "convulsionando", "sobredosis", "ambulancia", "paramedicos", "suicidio", "suicidarse",
    "suicida", "persona|hombre|mujer|nino|nina|senor|senora|alguien muriendo|muriendose",
    "persona|hombre|mujer|nino|nina|senor|senora|alguien se esta muriendo",
    "persona|hombre|mujer|nino|nina|senor|senora muerta|muerto", "cuerpo sin vida",

    /* Violence and weapons. A nail gun and a film shoot are exclusions. */
    "gun", "guns", "gunman", "gunmen", "gunshot", "gunshots", "gunfire", "shooting", "shooter",
    "shots fired", "shots being fired", "heard|hearing shots", "shot at",
    "been|was|got|were|is|being|getting shot", "firearm", "firearms", "pistol", "rifle",
    "shotgun", "shotguns", "handgun", "handguns", "knife", "knives", "machete", "stabbed",
    "stabbing", "stab wound|wounds", "armed", "weapon", "weapons",
    "assault", "assaulted", "assaulting", "attacked", "attacking", "robbery", "robbing",
    "being robbed", "robbed", "mugged", "mugging", "carjacking", "kidnap", "kidnapped",
    "kidnapping", "abducted", "domestic violence", "rape", "raped", "raping", "hostage",
    "hostages", "breaking in|into", "broke in|into", "burglar", "burglars", "burglary",
    "intruder", "intruders", "beating up", "beating someone|somebody|him|her|them",
    "got|was|were|been|being beaten|beat", "beaten up",
    "pistola", "pistolas", "escopeta", "escopetas", "arma", "armas", "mano armada",
    "hombre|hombres|tipo|tipos|sujeto|sujetos|persona|personas|mujer armado|armados|armada",
    "disparo", "disparos", "disparando", "dispararon", "disparan", "balazo", "balazos",
    "balacera", "baleado", "baleada", "balearon", "tiroteo", "tiros", "un tiro", "cuchillo",
    "cuchillos", "navaja", "cuchillazo", "apunalado", "apunalada", "apunalaron", "apunalando",
    "acuchillado", "acuchillada", "acuchillaron", "asalto", "asaltando", "asaltaron", "asaltado",
    "asaltada", "asaltante", "asaltantes", "atraco", "atracando", "robando", "secuestro",
    "secuestrado", "secuestrada", "secuestrando", "secuestraron", "violencia domestica",
    "abuso sexual", "agresion sexual", "agrediendo", "agredido", "agredida", "agredieron",
    "paliza", "golpiza", "intruso", "intrusos", "rehen", "rehenes",

    /* Electrical: a wire down, sparking, or someone shocked. */
    "live wire|wires",
    "downed|fallen|falling|down|broken|snapped|hanging|sparking|exposed power|electric|electrical|"
    "utility line|lines|wire|wires|cable|cables",
    "power|electric|electrical|utility line|lines|wire|wires|cable|cables down|fell|fallen|"
    "falling|sparking|hanging|snapped|broken|burning",
    "power|electric|electrical|utility line|lines|wire|wires|cable|cables is|are|came|come "
    "down|sparking|hanging",
    "wire|wires down|sparking|arcing", "wire|wires is|are down|sparking",
    "exposed wire|wires|wiring", "sparks", "sparking", "arcing", "electrocuted", "electrocution",
    "electric|electrical shock", "got|getting shocked",
    "utility|power|electric pole|poles down|fell|fallen|snapped",
    "transformer blew|exploded|sparking|smoking|blown",
    "manhole smoking|explosion|exploded|sparking", "smoking manhole|transformer|outlet|wires",
    "cable|cables electrico|electricos caido|caidos|suelto|sueltos|pelado|pelados|colgando|"
    "chispeando|expuesto|expuestos",
    "cable|cables de luz|electricidad|corriente caido|caidos|suelto|sueltos|colgando|chispeando",
    "cable|cables caido|caidos|chispeando|pelado|pelados|vivo|vivos",
    "cable|cables con corriente", "cable|cables esta|estan caido|caidos|colgando|chispeando",
    "linea|lineas|tendido electrica|electricas|electrico caida|caidas|caido|colgando|chispeando",
    "cayo|cayeron el|un|los|unos cable|cables", "poste|postes electrico|electricos caido|caidos",
    "chispas", "chispeando", "chisporroteando", "electrocutado", "electrocutada",
    "electrocutados", "electrocucion", "descarga electrica",

    /* Vehicles with people hurt, or about to be. "ran over a pothole"
     * (a tyre) is not "run over". */
    "hit|struck|knocked by a|an|the car|bus|truck|vehicle|van|taxi|cab|train|bike|bicycle|"
    "cyclist|motorcycle|scooter|driver",
    "hit|struck|knocked by car|bus|truck|vehicle|van|taxi|cab|train|bike|bicycle|cyclist|"
    "motorcycle|scooter",
    "been|was|got|were|being|getting run over", "run over by", "hit and run",
    "pedestrian|pedestrians|cyclist hit|struck|down",
    "car|bus|truck|vehicle|motorcycle|bike|traffic crash|accident|collision|wreck",
    "head on crash|collision",
    "crashed into", "rollover", "flipped|overturned car|vehicle|truck|bus|van",
    "car|vehicle|truck|bus|van flipped|overturned",
    "atropellado", "atropellada", "atropellados", "atropelladas", "atropello", "atropellaron",
    "atropellando", "arrollado", "arrollada", "arrollaron", "choque", "choques", "chocaron",
    "accidente de transito|trafico|auto|carro|coche|moto|autobus|camion",
    "accidente automovilistico|vial|vehicular",
    "carro|auto|coche|vehiculo|camion|camioneta|autobus|moto volcado|volcada|volco|volteado|"
    "estrellado",
    "se estrello|estrellaron",

    /* Water and drowning. Street flooding is a 311 report (DEP-SEWER):
     * only a person (or a car) in the water counts. */
    "drowning", "drowned", "drown",
    "fell|fallen|jumped in|into the water|river|lake|pond|pool|canal|creek|bay|harbor|ocean",
    "through the ice", "swept away", "caught in the current",
    "man|woman|child|kid|boy|girl|person|someone|somebody|people|car|vehicle in the "
    "water|river|lake|bay|harbor",
    "ahogando", "ahogandose", "ahogo", "ahogado", "ahogada", "ahogados", "ahogarse",
    "cayo|cayeron al agua|rio|lago|canal|mar|estanque|arroyo",
    "arrastrado|arrastrada|arrastrados|arrastradas por la|el corriente|agua|rio",
    "persona|hombre|mujer|nino|nina|alguien|carro|auto en el agua|rio|lago",

    /* People trapped, buried or locked in. An animal stuck somewhere is
     * an exclusion (a 311 report), unless the words say more. */
    "trapped", "stuck in elevator|lift", "stuck in an|the elevator|lift", "can t get out",
    "cannot|cant get out",
    "child|children|baby|kid|kids|toddler|infant|dog locked|left|alone in a|the car|vehicle",
    "child|children|baby|kid|kids|toddler|infant|dog locked|left|alone in car|vehicle", "hot car",
    "pinned under|down|beneath|against|between", "buried under|alive", "under the rubble",
    "building|ceiling|roof|wall|floor|balcony|scaffold|scaffolding|crane|structure "
    "collapsed|collapsing|collapse|caved",
    "atrapado", "atrapada", "atrapados", "atrapadas",
    "encerrado|encerrada|encerrados|encerradas|atorado|atorada|atorados|atascado|atascada|"
    "atascados en el|un ascensor|elevador",
    "nino|nina|ninos|bebe|perro encerrado|encerrada|encerrados|solo|sola|solos en el|un "
    "carro|auto|coche",
    "sepultado", "sepultada", "sepultados", "bajo los escombros", "derrumbe", "derrumbo",
    "derrumbando", "derrumbado", "derrumbada", "se cayo el techo|edificio|balcon",

    /* Explosions. */
    "explosion", "explosions", "exploded", "explode", "explodes", "exploding", "blast",
    "blew up", "bomb", "bombs", "bombing", "bomb threat", "explosive", "explosives",
    "explosiones", "exploto", "explota", "explotando", "estallo", "estallido", "estallando",
    "explosivo", "explosivos", "amenaza de bomba",
    NULL,
};

/* The reader's own word for it. Residents also write "emergency" loosely
 * ("no heat emergency"), and a warning costs them a sentence, so it
 * counts in a description; the phrases that say it is not one, or point
 * to 911 for one, are exclusions. It does not make a notice an emergency
 * one (emergency_service): a notice must name the danger. */
static const char *const GENERIC[] = {
    "emergency", "emergencies", "emergencia", "emergencias", "auxilio", "socorro", NULL,
};

/* Known false friends: these words never warn (see the top of the file). */
static const char *const EXCLUDED[] = {
    /* What 311 hears about fire safety: hydrants, fire escapes, exits,
     * extinguishers, code violations, fire hazards (a hazard is not a fire).
     * A fire alarm is not excluded: it may be sounding for a fire. */
    "fire hydrant|hydrants|escape|escapes|exit|exits|door|doors|lane|lanes|extinguisher|"
    "extinguishers|code|codes|zone|zones|safety|sprinkler|sprinklers|station|house|truck|"
    "trucks|engine|inspection|inspector|hazard|hazards|risk|trap|place|works|cracker|crackers",
    "boca|bocas|hidrante|hidrantes|escalera|escaleras|salida|salidas|puerta|puertas|riesgo|"
    "peligro|extintor de incendio|incendios",
    "fuego|fuegos artificial|artificiales",
    /* Fireworks are a quality-of-life report (noise, an illegal sale);
     * fireworks that set something alight or hurt someone say so in other
     * words, which warn. */
    "shooting fireworks|firecrackers", "shooting off fireworks|firecrackers",
    "disparando|disparan|tirando cohetes|petardos|fuegos",
    /* Smoke detectors and CO detectors as equipment (missing, broken,
     * beeping for a battery: a housing complaint); going off is in the
     * emergency list. Tobacco and cannabis smoke from a neighbour, and
     * smoke shops, are 311 reports. */
    "smoke detector|detectors|alarm|alarms|shop|shops|free",
    "carbon monoxide detector|detectors|alarm|alarms", "co detector|detectors|alarm|alarms",
    "detector|detectores|alarma|alarmas de humo|monoxido",
    "cigarette|cigarettes|cigar|cigars|tobacco|marijuana|weed|cannabis|pot|vape|hookah|"
    "secondhand smoke",
    "second hand smoke",
    "humo de cigarro|cigarros|cigarrillo|cigarrillos|tabaco|marihuana|mota|hierba|pipa|vapeo",
    /* A hazard that may hurt someone, not an injury. */
    "get|gets|getting hurt|injured", "be hurt|injured", "risk of injury|injuries",
    "cause|causes|causing injury|injuries", "cause|causes|causing an injury",
    "prevent|avoid injury|injuries|an injury",
    "salir|salga|resultar|resulte herido|herida|heridos|heridas|lastimado|lastimada|lastimados|"
    "lesionado|lesionada|lesionados",
    /* Tools, toys and film crews. */
    "nail|staple|glue|caulk|caulking|heat|spray|paint|water gun|guns",
    "pistola|pistolas de clavos|agua|pintura|silicona|calor",
    "film|movie|photo|video|tv|commercial shooting", "shooting hoops|baskets",
    /* An animal hurt or stuck somewhere (a 311 report to animal care). */
    "cat|cats|kitten|kittens|dog|dogs|puppy|bird|birds|animal|animals|raccoon|raccoons|squirrel|"
    "squirrels|pigeon|pigeons|deer|duck|ducks|goose|geese trapped|injured|hurt|bleeding",
    "trapped|injured|hurt|bleeding cat|cats|kitten|kittens|dog|dogs|puppy|bird|birds|animal|"
    "animals|raccoon|raccoons|squirrel|squirrels|pigeon|pigeons|deer|duck|ducks|goose|geese",
    "gato|gatos|perro|perros|animal|animales|pajaro|pajaros|paloma|palomas atrapado|atrapada|"
    "atrapados|atrapadas|herido|herida|heridos|heridas|lastimado|lastimada|lastimados|"
    "lastimadas",
    "choking hazard|hazards",
    /* "emergency" that is not one. */
    "non emergency|emergencies", "not an emergency", "not emergency", "no emergency",
    "isn t an emergency", "for an emergency", "for emergencies", "in an emergency",
    "in case of emergency|emergencies", "in case of an emergency",
    "emergency exit|exits|door|doors|light|lights|lighting|stairs|stairway|repair|repairs|"
    "brake|contact|contacts|number|numbers|plan|kit",
    "no es una emergencia", "no es emergencia", "no es de emergencia", "no hay emergencia",
    "en caso de emergencia|emergencias", "en una emergencia", "para emergencias",
    "para una emergencia",
    "salida|salidas|puerta|puertas|luz|luces|escalera|escaleras|reparacion|reparaciones|numero|"
    "contacto de emergencia|emergencias",
    NULL,
};

/* How a notice tells the reader to call 911. */
static const char *const CALL_911[] = {"911", "9 1 1", NULL};
/* clang-format on */

/* ---- text to words ---- */

typedef struct {
    char s[WORD_MAX];
    size_t len; /* up to WORD_MAX + 1, which means "too long: matches nothing" */
} word;

typedef struct {
    const unsigned char *p, *end;
} reader;

/* Reads the next word of the text into w; false when there is none left. */
static bool next_word(reader *r, word *w)
{
    w->len = 0;
    while (r->p < r->end) {
        char ascii[2];
        const char *f = fold_codepoint(fold_decode(&r->p, r->end), ascii);
        if (f == NULL) {
            if (w->len > 0)
                return true;
            continue;
        }
        for (; *f != '\0'; f++) {
            if (w->len < WORD_MAX)
                w->s[w->len] = *f;
            if (w->len <= WORD_MAX)
                w->len++;
        }
    }
    return w->len > 0;
}

/* ---- matching ---- */

/* The next words of the text: words[(head + k) % WINDOW] for k < count. */
typedef struct {
    word words[WINDOW];
    size_t head, count;
} window;

static const word *window_at(const window *w, size_t k)
{
    return &w->words[(w->head + k) % WINDOW];
}

/* Matches the window's words from the k-th on against the phrase's slots
 * from p (the start of slot k) on: the number of words the whole phrase
 * matches, or 0. One pass over the phrase: a word of the text (only a-z,
 * 0-9) never equals a separator of the phrase (' ', '|', '\0'), so
 * comparing stops at the end of each alternative and never reads past the
 * phrase. */
static size_t slots_match(const char *p, const window *w, size_t k)
{
    for (;; k++) {
        if (k == w->count)
            return 0;
        const word *wd = window_at(w, k);
        if (wd->len > WORD_MAX)
            return 0;
        for (;;) { /* the alternatives of slot k */
            size_t i = 0;
            while (i < wd->len && p[i] == wd->s[i])
                i++;
            p += i;
            if (i == wd->len && (*p == '|' || *p == ' ' || *p == '\0'))
                break;
            while (*p != '|' && *p != ' ' && *p != '\0')
                p++;
            if (*p != '|')
                return 0;
            p++;
        }
        while (*p != ' ' && *p != '\0')
            p++;
        if (*p == '\0')
            return k + 1;
        p++;
    }
}

/*
 * An index of a list of phrases by the alternatives of their first word,
 * chained by first letter and length, so that a word of the text is
 * compared only with the first words it could be. Without it every word
 * scanned all the tables (6.5 million instructions for a 4000-character
 * description, against about 0.5 million now). It is built at each call
 * in fixed buffers on the stack (about 60,000 instructions, 18 KiB): the
 * module keeps no state.
 */
enum {
    LETTERS = 36,    /* a-z, 0-9 */
    NO_ALT = 0xFFFF, /* the end of a chain */
    ALTS_MAX = 1536, /* first-word alternatives of the tables one call uses (~810) */
};

typedef struct {
    uint16_t phrase; /* in the list */
    uint16_t offset; /* of the alternative in the phrase */
    uint16_t next;   /* the next one with the same first letter and length, or NO_ALT */
    uint8_t len;
} first_alt;

typedef struct {
    first_alt alts[ALTS_MAX];
    size_t n;
} alt_buffer;

typedef struct {
    const char *const *phrases; /* NULL-terminated */
    const first_alt *alts;
    uint16_t head[LETTERS][WORD_MAX + 1]; /* the first alternative by letter and length */
} phrase_index;

/* 0-35 for a-z and 0-9, LETTERS for anything else. */
static unsigned letter_index(char c)
{
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a');
    if (c >= '0' && c <= '9')
        return 26 + (unsigned)(c - '0');
    return LETTERS;
}

/* Indexes phrases (NULL-terminated) into ix, its entries in buf. */
static void index_build(phrase_index *ix, const char *const *phrases, alt_buffer *buf)
{
    ix->phrases = phrases;
    ix->alts = buf->alts;
    memset(ix->head, 0xFF, sizeof ix->head); /* NO_ALT */
    for (size_t i = 0; phrases[i] != NULL; i++) {
        const char *ph = phrases[i], *alt = ph;
        for (;;) {
            size_t len = strcspn(alt, "| ");
            unsigned l = letter_index(alt[0]);
            /* The tables are constants: outgrowing the buffer, or a
             * phrase that is not lower-case words, is a bug in this file
             * that any test run finds. */
            if (buf->n == ALTS_MAX || l == LETTERS || i >= NO_ALT || len > WORD_MAX)
                abort();
            first_alt *a = &buf->alts[buf->n];
            a->phrase = (uint16_t)i;
            a->offset = (uint16_t)(alt - ph);
            a->len = (uint8_t)len;
            a->next = ix->head[l][len];
            ix->head[l][len] = (uint16_t)buf->n++;
            if (alt[len] != '|')
                break;
            alt += len + 1;
        }
    }
}

/* The longest match of any phrase of ix at the start of the window, 0 if
 * none. The window's first word is at most WORD_MAX letters. */
static size_t longest_match(const phrase_index *ix, const window *w)
{
    const word *first = window_at(w, 0);
    size_t best = 0;
    uint16_t e = ix->head[letter_index(first->s[0])][first->len];
    for (; e != NO_ALT; e = ix->alts[e].next) {
        const first_alt *a = &ix->alts[e];
        const char *p = ix->phrases[a->phrase] + a->offset;
        if (memcmp(p, first->s, a->len) != 0)
            continue;
        p += a->len;
        while (*p != ' ' && *p != '\0') /* the other alternatives of the first word */
            p++;
        size_t n = *p == '\0' ? 1 : slots_match(p + 1, w, 1);
        if (n > best)
            best = n;
    }
    return best;
}

/* True if the text s[0..n) holds a phrase of hits (or of more_hits, which
 * may be NULL) whose words are not all covered by a phrase of misses
 * (which may be NULL). */
static bool find(const char *s, size_t n, const phrase_index *hits, const phrase_index *more_hits,
                 const phrase_index *misses)
{
    reader r = {(const unsigned char *)s, (const unsigned char *)s + n};
    window w;
    w.head = 0;
    w.count = 0;
    size_t covered = 0; /* words from the window's start covered by an exclusion */
    for (;;) {
        while (w.count < WINDOW && next_word(&r, &w.words[(w.head + w.count) % WINDOW]))
            w.count++;
        if (w.count == 0)
            return false;
        /* A word too long for any table starts no phrase. */
        if (window_at(&w, 0)->len <= WORD_MAX) {
            if (misses != NULL) {
                size_t m = longest_match(misses, &w);
                if (m > covered)
                    covered = m;
            }
            if (longest_match(hits, &w) > covered ||
                (more_hits != NULL && longest_match(more_hits, &w) > covered))
                return true;
        }
        w.head = (w.head + 1) % WINDOW;
        w.count--;
        if (covered > 0)
            covered--;
    }
}

/* ---- the API ---- */

bool emergency_text(const char *text)
{
    if (text == NULL)
        return false;
    alt_buffer buf;
    buf.n = 0;
    phrase_index d, g, x;
    index_build(&d, DANGER, &buf);
    index_build(&g, GENERIC, &buf);
    index_build(&x, EXCLUDED, &buf);
    return find(text, strlen(text), &d, &g, &x);
}

/* True if one of the comma-separated keywords is exactly the word
 * "emergency" (or its plural, or the Spanish), in any case: the catalog's
 * own marker. "non-emergency" or "emergency repair" is not. */
static bool keywords_say_emergency(const char *keywords)
{
    const char *p = keywords;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        reader r = {(const unsigned char *)p, (const unsigned char *)p + n};
        window w;
        word second;
        w.head = 0;
        w.count = 1;
        if (next_word(&r, &w.words[0]) && !next_word(&r, &second) &&
            slots_match("emergency|emergencies|emergencia|emergencias", &w, 0) == 1)
            return true;
        if (comma == NULL)
            return false;
        p = comma + 1;
    }
}

bool emergency_service(const service *sv)
{
    if (sv == NULL)
        return false;
    if (sv->keywords != NULL && keywords_say_emergency(sv->keywords))
        return true;
    /* A notice counts when it says to call 911 about a danger the word
     * list names ("If you smell gas now, call 911"), not when it only
     * says to call if things turn bad ("If the intersection is dangerous
     * now, call 911": the service itself is not about an emergency). */
    const char *nt = sv->service_notice;
    if (nt == NULL)
        return false;
    size_t n = strlen(nt);
    alt_buffer buf;
    buf.n = 0;
    phrase_index c, d, x;
    index_build(&c, CALL_911, &buf);
    index_build(&d, DANGER, &buf);
    index_build(&x, EXCLUDED, &buf);
    return find(nt, n, &c, NULL, NULL) && find(nt, n, &d, NULL, &x);
}

emergency_reason emergency_check(const service *sv, const char *description)
{
    if (emergency_service(sv))
        return EMERGENCY_SERVICE;
    if (emergency_text(description))
        return EMERGENCY_DESCRIPTION;
    return EMERGENCY_NONE;
}

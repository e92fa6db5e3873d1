/*
 * test_emergency.c - I5: what reads like an emergency (core/emergency.c).
 * Two tables of real 311 wording, English and Spanish: sentences that must
 * get the 911 notice and sentences that must not. To turn a report into a
 * test, add its sentence to one of them. Then the edges of the reader
 * (accents, capitals, punctuation, line breaks, invalid UTF-8, long text),
 * the verdict for every service of the demo catalog, and emergency_check.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/emergency.h"
#include "open311/o311_catalog.h"
#include "democat.h"
#include "testlib.h"


/* Checks each sentence of a NULL-terminated table, naming the ones that fail. */
static void check_all(const char *const *sentences, bool want, size_t min_count)
{
    size_t n = 0;
    for (; sentences[n] != NULL; n++) {
        if (emergency_text(sentences[n]) != want) {
            testlib_failures++;
            fprintf(stderr, "%s: \"%s\" should %s\n", testlib_current, sentences[n],
                    want ? "warn" : "not warn");
        }
    }
    CHECK(n >= min_count);
}

/* ---- the two tables ---- */

static const char *const WARN[] = {
    /* fire and smoke */
    "There is a fire in the dumpster behind the building",
    "Smoke coming out of the basement windows",
    "The building across the street is on fire",
    "House fire on 5th Ave, flames out the second floor",
    "Brush fire spreading along the highway",
    "smell of something burning in the hallway",
    "Smoke alarm going off next door and nobody answers",
    "Hay un incendio en el edificio de al lado",
    "hay humo saliendo del edificio",
    "fuego en el contenedor de basura",
    "el carro está en llamas",
    "la alarma de humo está sonando y huele a quemado",
    /* gas */
    "I smell gas near the corner of Main and 3rd",
    "Strong smell of gas in the hallway",
    "gas leak on the street, you can hear it hissing",
    "The smell of natural gas is very strong in the lobby",
    "we smell gas!!!",
    "Construction crew hit a gas line",
    "olor a gas en la calle",
    "Fuga de gas en la esquina",
    "huele a gas en el pasillo del tercer piso",
    "olor fuerte a gas cerca de la escuela",
    /* carbon monoxide */
    "carbon monoxide alarm going off in my apartment",
    "CO detector is going off",
    "Monóxido de carbono en el apartamento, me duele la cabeza",
    "el detector de monóxido está sonando",
    /* injury and medical */
    "Man bleeding on sidewalk",
    "A woman is unconscious at the bus stop",
    "Person not breathing in the park",
    "My neighbor collapsed on the stairs and isn't breathing",
    "someone is having a seizure on the train platform",
    "overdose in the park bathroom",
    "elderly man fell and is injured, needs an ambulance",
    "Un hombre herido en la acera",
    "una señora está sangrando en la parada del autobús",
    "el niño no respira",
    "Hay una persona inconsciente en el parque",
    "sobredosis en el baño del parque",
    "mi vecino se desmayó en la escalera",
    /* violence and weapons */
    "Someone got shot on our block",
    "Shots fired near the playground",
    "A man with a gun in front of the deli",
    "guy stabbed outside the bar",
    "A man is breaking into cars on my street right now",
    "domestic violence next door, a woman screaming for help",
    "un hombre con una pistola frente a la tienda",
    "Se escucharon disparos en la calle",
    "apuñalaron a un joven en la esquina",
    "un tipo armado en el metro",
    /* electrical */
    "Live wire down across the sidewalk",
    "Power line down on Elm Street after the storm",
    "downed power lines sparking on the road",
    "exposed wires sparking in the hallway",
    "Transformer blew and the pole is smoking",
    "Manhole smoking on Broadway",
    "cable eléctrico caído",
    "cables de luz caídos después de la tormenta",
    "se cayó un cable en la calle y está chispeando",
    "chispas saliendo del poste",
    /* vehicles with people hurt */
    "Pedestrian hit by a car at the intersection",
    "Car crash on the corner, people inside",
    "Car flipped over on the highway ramp",
    "atropellaron a un peatón en el cruce",
    "accidente de tránsito con heridos",
    /* water */
    "Kid drowning in the lake",
    "someone fell into the river near the pier",
    "un niño se está ahogando en la piscina",
    "un hombre se cayó al río",
    /* trapped */
    "Child trapped in the elevator",
    "People stuck in the elevator for an hour",
    "Dog locked in a hot car in the parking lot",
    "Ceiling collapsed in apartment 4B",
    "personas atrapadas en el ascensor",
    "dos personas encerradas en el elevador",
    /* explosions */
    "Explosion heard from the manhole",
    "explosión en la alcantarilla",
    "Bomb threat at the school",
    /* the reader's own word */
    "There is an emergency at the school",
    "es una emergencia, por favor",
    "¡Auxilio! Socorro",
    NULL,
};

static const char *const QUIET[] = {
    /* everyday 311 */
    "pothole on 5th ave",
    "the street light is out",
    "fire hydrant leaking",
    "neighbor playing loud music",
    "Missed garbage pickup on Tuesday",
    "No heat or hot water since Monday",
    "Rats in the backyard near the garbage cans",
    "Illegal dumping of tires behind the school",
    "Bulk pickup: old couch and mattress",
    "Traffic signal stuck on red",
    "Trip hazard on the sidewalk, broken concrete",
    "Abandoned car with flat tires for three weeks",
    "Sewer backup in the basement",
    "Catch basin clogged, street flooding when it rains",
    "Dead tree in front of my house, branches falling",
    "Loud party next door, people shouting",
    "el semáforo no funciona",
    "bache enorme en la avenida",
    "el poste de luz está apagado",
    "música alta del vecino toda la noche",
    "basura sin recoger desde el lunes",
    "no hay calefacción ni agua caliente",
    "ratas en el sótano",
    "árbol caído bloqueando la acera",
    /* false friends of the word list */
    "Open fire hydrant, kids playing in the water",
    "Fire-hydrant running all day",
    "hidrante abierto en la esquina",
    "Boca de incendios con fuga de agua",
    "Illegal fireworks every night on our block",
    "people shooting off fireworks in the park",
    "fuegos artificiales todas las noches",
    "Smoke detector battery is dead and the landlord won't replace it",
    "No smoke detector in the apartment",
    "No carbon monoxide detector in my unit",
    "falta el detector de humo en el apartamento",
    "Neighbor's cigarette smoke comes into my apartment",
    "humo de cigarrillo del vecino",
    "Smoked salmon smell from the restaurant exhaust",
    "The fireplace chimney next door is cracked",
    "Smoke shop selling to minors",
    "Gas station on the corner has an overflowing trash can",
    "gas-powered leaf blower at 7am",
    "Fire escape is blocked by a storage cabinet",
    "la escalera de incendios está bloqueada",
    "Garbage piled up in the hallway is a fire hazard",
    "Large pothole, someone will get hurt",
    "Fix this sidewalk before somebody gets injured",
    "el bache es enorme, alguien va a salir herido",
    "Car alarm going off for two hours",
    "Construction work after hours with a nail gun",
    "Film shooting crew blocking the sidewalk",
    "Shooting hoops late at night, ball bouncing",
    "Injured pigeon on the sidewalk",
    "cat trapped in the wall",
    "This is not an emergency, but the street light has been flickering",
    "esto no es una emergencia, pero el bache es grande",
    "The emergency exit light in the hallway is broken",
    "la luz de emergencia del pasillo no funciona",
    "For an emergency, call 911.",
    NULL,
};

static void test_warns(void)
{
    check_all(WARN, true, 60);
}

static void test_quiet(void)
{
    check_all(QUIET, false, 40);
}

/* Choices made on purpose that a reader could take for bugs: the list
 * leans towards warning, and has no grammar. */
static void test_leans_towards_warning(void)
{
    CHECK(emergency_text("there is no fire"));            /* no grammar: no negation */
    CHECK(emergency_text("fire alarm is broken"));        /* a fire alarm may be sounding */
    CHECK(emergency_text("sewer gas smell on my block")); /* nobody can tell it from a leak */
    CHECK(emergency_text("fireworks set the tree on fire"));
    CHECK(emergency_text("EMERGENCY!!! no heat, baby in the apartment"));
    CHECK(emergency_text("my son got hurt on the broken swing"));
    /* An animal hurt is quiet, a person near it is not. */
    CHECK(!emergency_text("injured dog in the road"));
    CHECK(emergency_text("injured dog in the road and the owner is bleeding"));
    /* A word covered by an exclusion is quiet; the same word later is not. */
    CHECK(!emergency_text("no smoke detector"));
    CHECK(emergency_text("no smoke detector and now there is smoke"));
    CHECK(emergency_text("fire hydrant open and a car is on fire"));
}

/* ---- the reader's edges ---- */

static void test_accents_and_case(void)
{
    CHECK(emergency_text("FIRE"));
    CHECK(emergency_text("Fire"));
    CHECK(emergency_text("INCENDIO EN LA COCINA"));
    CHECK(emergency_text("EXPLOSIÓN"));
    CHECK(emergency_text("explosion"));         /* without the accent */
    CHECK(emergency_text("explosio\xcc\x81n")); /* decomposed: o + U+0301 */
    CHECK(emergency_text("MONÓXIDO DE CARBONO"));
    CHECK(emergency_text("CABLE ELÉCTRICO CAÍDO"));
    CHECK(emergency_text("cable electrico caido"));
    CHECK(emergency_text("Ahogándose en el lago"));
    CHECK(emergency_text("APUÑALADO"));         /* Ñ -> n */
    CHECK(emergency_text("ambu\xc2\xadlance")); /* a soft hyphen inside */
    CHECK(emergency_text("\xc5\x81ive wire"));  /* U+0141 Ł -> l */
    CHECK(emergency_text("hu\xcc\x88mo"));      /* u + U+0308 diaeresis */
    /* Other scripts separate words, and match nothing themselves. */
    CHECK(emergency_text("\xd0\xbf\xd0\xbe\xd0\xb6\xd0\xb0\xd1\x80 fire"));
    CHECK(!emergency_text("\xd0\xbf\xd0\xbe\xd0\xb6\xd0\xb0\xd1\x80"));
    /* A letter the table does not hold is still a letter of the word... */
    CHECK(!emergency_text("fir\xc3\xa6")); /* fir + æ = "firae" */
    /* ...but punctuation outside ASCII separates. */
    CHECK(emergency_text("\u201cfire\u201d"));      /* curly quotes */
    CHECK(emergency_text("humo\xc2\xbb"));          /* guillemet */
    CHECK(emergency_text("fire\xe2\x80\x94smoke")); /* em dash */
    CHECK(emergency_text("fire\xc2\xa0"));          /* no-break space */
}

static void test_punctuation(void)
{
    CHECK(emergency_text("fire!"));
    CHECK(emergency_text("(smoke)"));
    CHECK(emergency_text("'gas leak'"));
    CHECK(emergency_text("smoke, lots of it"));
    CHECK(emergency_text("\u00a1Fuego!"));
    CHECK(emergency_text("\u00bfHay humo?"));
    CHECK(emergency_text("gas-leak"));
    CHECK(emergency_text("fire/smoke"));
    CHECK(emergency_text("#fire"));
    CHECK(emergency_text("...smell...gas..."));
    CHECK(emergency_text("can't breathe"));
    CHECK(emergency_text("can\xe2\x80\x99t breathe")); /* typographic apostrophe */
    /* Whole words only. */
    CHECK(!emergency_text("firefighters came by"));
    CHECK(!emergency_text("gunk in the drain"));
    CHECK(!emergency_text("gasoline price sign is broken"));
    CHECK(!emergency_text("the shotclock"));
    CHECK(!emergency_text("humor"));
    CHECK(!emergency_text("fuegos"));
    CHECK(!emergency_text("smoked"));
}

static void test_line_breaks(void)
{
    CHECK(emergency_text("I smell\ngas"));
    CHECK(emergency_text("gas\r\nleak"));
    CHECK(emergency_text("live\n\nwire"));
    CHECK(emergency_text("cable\neléctrico\ncaído"));
    CHECK(emergency_text("olor\ta\tgas"));
    CHECK(emergency_text("not\n  breathing"));
    CHECK(!emergency_text("fire\nhydrant"));
    CHECK(!emergency_text("smoke\r\ndetector"));
}

static void test_null_and_empty(void)
{
    CHECK(!emergency_text(NULL));
    CHECK(!emergency_text(""));
    CHECK(!emergency_text("   "));
    CHECK(!emergency_text("!!!\n\t"));
    CHECK(!emergency_text("\xcc\x81")); /* a lone combining accent */
}

static void test_invalid_utf8(void)
{
    /* Undecodable bytes separate words; what follows is still read. */
    CHECK(emergency_text("\xff\xfe fire"));
    CHECK(emergency_text("\xc3"
                         "fire"));     /* lead byte without its tail */
    CHECK(emergency_text("fire\xc3")); /* cut at the end */
    CHECK(emergency_text("smoke\xe2\x82"));
    CHECK(emergency_text("\xc0\xaf"
                         "smoke")); /* overlong '/' */
    CHECK(emergency_text("\xed\xa0\x80"
                         "smoke")); /* a surrogate */
    CHECK(emergency_text("\xf4\x90\x80\x80"
                         "fire"));        /* above U+10FFFF */
    CHECK(emergency_text("gas\x80leak")); /* a stray continuation byte */
    CHECK(!emergency_text("fi\xffre"));   /* "fi" and "re" */
    /* Latin-1 text is not UTF-8: é as one byte splits the word. */
    CHECK(!emergency_text("explosi\xf3n"));
    /* Every byte value, alone and around a word. */
    char s[16];
    for (int b = 1; b < 256; b++) {
        s[0] = (char)b;
        s[1] = '\0';
        CHECK(!emergency_text(s));
        memcpy(s, "x fire ", 7);
        s[7] = (char)b;
        s[8] = '\0';
        CHECK(emergency_text(s));
    }
}

/* Fills buf[0..n) with a harmless 311 sentence, repeated. */
static void fill_quiet(char *buf, size_t n)
{
    static const char filler[] = "pothole on 5th ave, the street light is out. ";
    for (size_t i = 0; i < n; i++)
        buf[i] = filler[i % (sizeof filler - 1)];
}

static void test_long_text(void)
{
    enum { N = 4000 };
    char *buf = malloc(N + 1);
    REQUIRE(buf != NULL);

    /* The word at the very end of a full-length description. */
    fill_quiet(buf, N);
    memcpy(buf + N - 5, " fire", 5);
    buf[N] = '\0';
    CHECK(emergency_text(buf));
    /* A phrase at the very end. */
    fill_quiet(buf, N);
    memcpy(buf + N - 10, " smell gas", 10);
    CHECK(emergency_text(buf));
    /* Nothing at all. */
    fill_quiet(buf, N);
    CHECK(!emergency_text(buf));
    /* One 3995-letter word, then the word: a long word is no word, and
     * does not swallow the next. */
    memset(buf, 'f', N);
    memcpy(buf + N - 5, " fire", 5);
    CHECK(emergency_text(buf));
    /* A word that starts like one but goes on is not it. */
    memcpy(buf, "fire", 4);
    memset(buf + 4, 'e', N - 4);
    CHECK(!emergency_text(buf));
    free(buf);

    /* Far beyond what the door lets in (1 MiB): the window is fixed, so
     * this only takes longer, never more memory. */
    size_t big = (size_t)1 << 20;
    buf = malloc(big + 1);
    REQUIRE(buf != NULL);
    fill_quiet(buf, big);
    buf[big] = '\0';
    CHECK(!emergency_text(buf));
    memcpy(buf + big - 17, "\nnot\nbreathing\n\n", 16);
    CHECK(emergency_text(buf));
    free(buf);
}

/* The examples emergency.h promises, and the longest phrases and words of
 * the tables (the reader keeps a window of 8 words of up to 24 letters). */
static void test_header_examples(void)
{
    static const char *const examples[] = {
        "fire",
        "smoke",
        "gas leak",
        "smell gas",
        "injured",
        "bleeding",
        "unconscious",
        "not breathing",
        "gun",
        "shooting",
        "stabbed",
        "live wire",
        "power line down",
        "carbon monoxide",
        "explosion",
        "trapped",
        "drowning",
        "incendio",
        "fuego",
        "humo",
        "fuga de gas",
        "olor a gas",
        "herido",
        "sangrando",
        "inconsciente",
        "no respira",
        "pistola",
        "disparos",
        "cable caído",
        "monóxido de carbono",
        "explosión",
        "atrapado",
        "carbon monoxide detector is going off",
        "smoke detectors are going off",
        "la alarma de monoxido de carbono esta sonando",
        "paro cardiorrespiratorio",
        "chisporroteando",
        "desangrándose",
        "incendiándose",
        "electrocutados",
        "accidente automovilístico",
        NULL,
    };
    for (size_t i = 0; examples[i] != NULL; i++)
        if (!emergency_text(examples[i])) {
            testlib_failures++;
            fprintf(stderr, "%s: \"%s\" should warn\n", testlib_current, examples[i]);
        }
    /* Without the last words, those long phrases are the exclusions. */
    CHECK(!emergency_text("smoke detectors are"));
    CHECK(!emergency_text("la alarma de monoxido de carbono"));
    CHECK(!emergency_text("fireplace"));
    CHECK(!emergency_text("firework permit"));
    CHECK(!emergency_text("smoked salmon"));
}

/* ---- services ---- */


/* Every service of data/demo/catalog.json and whether it counts. Only the
 * outdoor gas smell does: its keywords say "emergency" and its notice says
 * to call 911 if you smell gas. DOT-SIGNAL's notice also says to call 911,
 * but only "if the intersection is dangerous now": the service is not about
 * an emergency. A service added to the demo must be added here. */
static const struct {
    const char *code;
    bool emergency;
} DEMO[] = {
    {"DOT-POTHOLE", false},    {"DOT-STREETLIGHT", false}, {"DOT-SIGNAL", false},
    {"DOT-SIDEWALK", false},   {"DSNY-MISSED", false},     {"DSNY-BULK", false},
    {"DSNY-LITTER", false},    {"DSNY-DUMPING", false},    {"DEP-SEWER", false},
    {"DEP-HYDRANT", false},    {"DEP-GAS", true},          {"NYPD-NOISE-RES", false},
    {"NYPD-NOISE-VEH", false}, {"DPR-TREE", false},        {"DPR-PLAYGROUND", false},
    {"DOB-ILLEGAL", false},    {"DOHMH-RODENT", false},    {"HPD-HEAT", false},
};

static void test_demo_services(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    CHECK_INT(c->nservices, sizeof DEMO / sizeof DEMO[0]);
    for (size_t i = 0; i < sizeof DEMO / sizeof DEMO[0]; i++) {
        const service *sv = catalog_find_service(c, DEMO[i].code);
        if (sv == NULL) {
            testlib_failures++;
            fprintf(stderr, "%s: %s is not in the demo catalog\n", testlib_current, DEMO[i].code);
            continue;
        }
        if (emergency_service(sv) != DEMO[i].emergency) {
            testlib_failures++;
            fprintf(stderr, "%s: emergency_service(%s) should be %s\n", testlib_current,
                    DEMO[i].code, DEMO[i].emergency ? "true" : "false");
        }
        /* The catalog's own words: a resident who copies a service's name
         * or description into the form is warned only for the gas smell
         * ("For an emergency, call 911." in NYPD-NOISE-RES, "Fire Hydrant"
         * in DEP-HYDRANT's name, are not). */
        if (emergency_text(sv->name) != DEMO[i].emergency ||
            emergency_text(sv->description) != DEMO[i].emergency) {
            testlib_failures++;
            fprintf(stderr, "%s: the name or description of %s should %s\n", testlib_current,
                    DEMO[i].code, DEMO[i].emergency ? "warn" : "not warn");
        }
    }

    /* DEP-GAS counts by each of the two rules alone. */
    const service *gas = catalog_find_service(c, "DEP-GAS");
    const service *signal = catalog_find_service(c, "DOT-SIGNAL");
    if (gas != NULL && signal != NULL) {
        service s = *gas;
        s.service_notice = NULL;
        CHECK(emergency_service(&s)); /* keywords */
        s = *gas;
        s.keywords = NULL;
        CHECK(emergency_service(&s)); /* notice */
        s.service_notice = NULL;
        CHECK(!emergency_service(&s));
        /* What keeps DOT-SIGNAL out is the danger, not the 911. */
        CHECK(strstr(signal->service_notice, "911") != NULL);
    }
    catalog_free(c);
}

static service make_service(const char *keywords, const char *notice)
{
    service s;
    memset(&s, 0, sizeof s);
    s.code = "TEST";
    s.name = "Test";
    s.keywords = keywords;
    s.service_notice = notice;
    return s;
}

static void test_service_rules(void)
{
    static const struct {
        const char *keywords, *notice;
        bool want;
    } cases[] = {
        {"gas, emergency", NULL, true},
        {"Emergency", NULL, true},
        {"  EMERGENCIA  ", NULL, true},
        {"fugas,emergencias", NULL, true},
        {"emergencies,", NULL, true},
        {",,emergency", NULL, true},
        {"Emergéncy", NULL, true}, /* accent-insensitive like everything else */
        {"non-emergency", NULL, false},
        {"emergency repair", NULL, false},
        {"emergencyroom", NULL, false},
        {"gas, smell", NULL, false},
        {"", NULL, false},
        {NULL, NULL, false},
        {NULL, "If you smell gas now, call 911.", true},
        {NULL, "Call 9-1-1 if you see smoke.", true},
        {NULL, "Si huele a gas, llame al 911.", true},
        {NULL, "If someone is hurt, call 911.", true},
        {NULL, "If the intersection is dangerous now, call 911.", false},
        {NULL, "For an emergency, call 911.", false},
        {NULL, "Emergency? Call 911.", false}, /* the notice must name the danger */
        {NULL, "En caso de emergencia, llame al 911.", false},
        {NULL, "If you smell gas, call the utility.", false}, /* no 911 */
        {NULL, "Call 9111 about the smoke.", false},          /* not 911 */
        {NULL, "Fire hydrants are inspected yearly; call 911 to report one.", false},
        {NULL, "", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        service s = make_service(cases[i].keywords, cases[i].notice);
        if (emergency_service(&s) != cases[i].want) {
            testlib_failures++;
            fprintf(stderr, "%s: case %zu (keywords \"%s\", notice \"%s\") should be %s\n",
                    testlib_current, i, cases[i].keywords ? cases[i].keywords : "(null)",
                    cases[i].notice ? cases[i].notice : "(null)", cases[i].want ? "true" : "false");
        }
    }
    CHECK(!emergency_service(NULL));
}

static void test_check_order(void)
{
    service gas = make_service("gas, emergency", NULL);
    service pothole = make_service("pothole, road", "Crews fill potholes within 10 days.");

    CHECK_INT(emergency_check(&gas, "faint odor near the park"), EMERGENCY_SERVICE);
    CHECK_INT(emergency_check(&gas, "the building is on fire"), EMERGENCY_SERVICE); /* first */
    CHECK_INT(emergency_check(&gas, NULL), EMERGENCY_SERVICE);
    CHECK_INT(emergency_check(&pothole, "car crash, people injured"), EMERGENCY_DESCRIPTION);
    CHECK_INT(emergency_check(&pothole, "deep pothole"), EMERGENCY_NONE);
    CHECK_INT(emergency_check(&pothole, NULL), EMERGENCY_NONE);
    CHECK_INT(emergency_check(NULL, "olor a gas"), EMERGENCY_DESCRIPTION);
    CHECK_INT(emergency_check(NULL, "bache"), EMERGENCY_NONE);
    CHECK_INT(emergency_check(NULL, NULL), EMERGENCY_NONE);
}

TEST_MAIN(TEST(test_warns), TEST(test_quiet), TEST(test_leans_towards_warning),
          TEST(test_accents_and_case), TEST(test_punctuation), TEST(test_line_breaks),
          TEST(test_null_and_empty), TEST(test_invalid_utf8), TEST(test_long_text),
          TEST(test_header_examples), TEST(test_demo_services), TEST(test_service_rules),
          TEST(test_check_order))

/*
 * test_lifecycle.c - the lifecycle's rules (core/lifecycle.c): every status
 * edge allowed and refused, written out here as a table of its own rather
 * than read from the code under test; what a close, a reopen, a transfer
 * and a merge need; notes alone; malformed changes; and the events
 * lc_event makes.
 */
#include <stdio.h>
#include <string.h>

#include "core/lifecycle.h"
#include "testlib.h"

static catalog *make_catalog(void)
{
    static const agency dot = {"DOT", "Department of Transportation"};
    static const agency dsny = {"DSNY", "Department of Sanitation"};
    err_t e;
    catalog *c = catalog_new();
    if (c == NULL || catalog_add_agency(c, &dot, &e) != ERR_OK ||
        catalog_add_agency(c, &dsny, &e) != ERR_OK) {
        catalog_free(c);
        return NULL;
    }
    return c;
}

static service_request req(int64_t id, sr_status st)
{
    service_request r;
    memset(&r, 0, sizeof r);
    r.id = id;
    r.service_code = "pothole";
    r.agency_code = "DOT";
    r.status = st;
    r.resolution = st == SR_CLOSED ? SR_RES_FIXED : SR_RES_NONE;
    r.requested_at = r.updated_at = 1000;
    return r;
}

static lc_change change(void)
{
    lc_change ch;
    memset(&ch, 0, sizeof ch);
    ch.actor = "staff:7";
    ch.at = 2000;
    return ch;
}

/* Whether a refusal's message holds want (NULL: any message). */
static bool says(const err_t *err, const char *want)
{
    if (want == NULL || strstr(err->msg, want) != NULL)
        return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err->msg, want);
    return false;
}

/* Expects rc and, when want_msg is given, a message holding it. */
#define EXPECT(rc_expr, want_rc, want_msg)                                                         \
    do {                                                                                           \
        CHECK_INT((rc_expr), want_rc);                                                             \
        CHECK(says(&err, want_msg));                                                               \
    } while (0)

/* The state machine, as the issue and docs/DESIGN.md state it: rows are
 * from, columns to (open, acknowledged, in_progress, reopened, closed). */
static const char *const EDGES[SR_STATUS_COUNT] = {
    [SR_OPEN] = "-yy-y",     [SR_ACKNOWLEDGED] = "--y-y", [SR_IN_PROGRESS] = "----y",
    [SR_REOPENED] = "-yy-y", [SR_CLOSED] = "---y-",
};

/* Why each refused edge is refused. */
static const char *refusal(sr_status from, sr_status to)
{
    if (from == to)
        return "already";
    if (from == SR_CLOSED)
        return "a closed request can only be reopened";
    if (to == SR_REOPENED)
        return "only a closed request can be reopened";
    if (to == SR_OPEN)
        return "cannot go back to open";
    return "cannot go back to";
}

static void test_every_edge(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    int allowed = 0, refused = 0;
    for (unsigned from = 0; from < SR_STATUS_COUNT; from++) {
        for (unsigned to = 0; to < SR_STATUS_COUNT; to++) {
            service_request cur = req(1, (sr_status)from);
            lc_change ch = change();
            ch.set_status = true;
            ch.status = (sr_status)to;
            /* Everything else right, so only the edge decides. */
            if (to == SR_CLOSED)
                ch.resolution = SR_RES_FIXED;
            if (to == SR_REOPENED)
                ch.note = "Reported again";
            err_t err = {0};
            bool want = EDGES[from][to] == 'y';
            CHECK(lc_status_allowed((sr_status)from, (sr_status)to) == want);
            err_code rc = lc_check(&cur, &ch, c, NULL, &err);
            if (want) {
                allowed++;
                if (rc != ERR_OK)
                    fprintf(stderr, "  %s -> %s refused: %s\n", sr_status_name(from),
                            sr_status_name(to), err.msg);
                CHECK_INT(rc, ERR_OK);
            } else {
                refused++;
                CHECK_INT(rc, ERR_INVALID);
                if (strstr(err.msg, refusal(from, to)) == NULL) {
                    fprintf(stderr, "  %s -> %s: \"%s\"\n", sr_status_name(from),
                            sr_status_name(to), err.msg);
                    CHECK(!"refusal message");
                }
            }
        }
    }
    CHECK_INT(allowed, 10);
    CHECK_INT(refused, 15);
    CHECK(!lc_status_allowed((sr_status)9, SR_CLOSED));
    catalog_free(c);
}

typedef struct {
    const char *what;
    sr_status from;
    bool set_status;
    sr_status to;
    sr_resolution res;
    const char *note;
    bool pub;
    err_code want;
    const char *msg; /* part of the refusal's message */
} status_case;

static const status_case STATUS_CASES[] = {
    {"close without a resolution", SR_IN_PROGRESS, true, SR_CLOSED, SR_RES_NONE, NULL, false,
     ERR_INVALID, "closing needs a resolution"},
    {"close fixed, no note", SR_OPEN, true, SR_CLOSED, SR_RES_FIXED, NULL, false, ERR_OK, NULL},
    {"close fixed, internal note", SR_OPEN, true, SR_CLOSED, SR_RES_FIXED, "crew 4", false, ERR_OK,
     NULL},
    {"duplicate, no note", SR_OPEN, true, SR_CLOSED, SR_RES_DUPLICATE, NULL, false, ERR_INVALID,
     "closing as duplicate needs a public note"},
    {"duplicate, internal note", SR_OPEN, true, SR_CLOSED, SR_RES_DUPLICATE, "see 12", false,
     ERR_INVALID, "needs a public note"},
    {"duplicate, public note", SR_OPEN, true, SR_CLOSED, SR_RES_DUPLICATE, "Same as 12", true,
     ERR_OK, NULL},
    {"not_responsible, no note", SR_ACKNOWLEDGED, true, SR_CLOSED, SR_RES_NOT_RESPONSIBLE, NULL,
     true, ERR_INVALID, "closing as not_responsible needs a public note"},
    {"not_responsible, public note", SR_ACKNOWLEDGED, true, SR_CLOSED, SR_RES_NOT_RESPONSIBLE,
     "A state road: reported to the state", true, ERR_OK, NULL},
    {"could_not_find, internal", SR_IN_PROGRESS, true, SR_CLOSED, SR_RES_COULD_NOT_FIND, "x", false,
     ERR_INVALID, "needs a public note"},
    {"could_not_find, public", SR_IN_PROGRESS, true, SR_CLOSED, SR_RES_COULD_NOT_FIND,
     "Nothing at that address", true, ERR_OK, NULL},
    {"not_fixed, no note", SR_REOPENED, true, SR_CLOSED, SR_RES_NOT_FIXED, NULL, false, ERR_INVALID,
     "closing as not_fixed needs a public note"},
    {"not_fixed, public", SR_REOPENED, true, SR_CLOSED, SR_RES_NOT_FIXED, "No budget this year",
     true, ERR_OK, NULL},
    {"resolution without closing", SR_OPEN, true, SR_ACKNOWLEDGED, SR_RES_FIXED, NULL, false,
     ERR_INVALID, "a resolution goes only with closing"},
    {"resolution on a refused edge", SR_IN_PROGRESS, true, SR_ACKNOWLEDGED, SR_RES_FIXED, NULL,
     false, ERR_INVALID, "a resolution goes only with closing"},
    {"resolution on a note", SR_OPEN, false, SR_OPEN, SR_RES_FIXED, "hello", true, ERR_INVALID,
     "a resolution goes only with closing"},
    {"reopen without a note", SR_CLOSED, true, SR_REOPENED, SR_RES_NONE, NULL, false, ERR_INVALID,
     "reopening needs a note"},
    {"reopen, internal note", SR_CLOSED, true, SR_REOPENED, SR_RES_NONE, "caller says no", false,
     ERR_OK, NULL},
    {"reopen, public note", SR_CLOSED, true, SR_REOPENED, SR_RES_NONE, "Still there", true, ERR_OK,
     NULL},
    {"status out of range", SR_OPEN, true, (sr_status)7, SR_RES_NONE, NULL, false, ERR_INVALID,
     "out of range"},
};

static void test_status_cases(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    for (size_t i = 0; i < sizeof STATUS_CASES / sizeof STATUS_CASES[0]; i++) {
        const status_case *k = &STATUS_CASES[i];
        service_request cur = req(1, k->from);
        lc_change ch = change();
        ch.set_status = k->set_status;
        ch.status = k->to;
        ch.resolution = k->res;
        ch.note = k->note;
        ch.note_public = k->pub;
        err_t err = {0};
        err_code rc = lc_check(&cur, &ch, c, NULL, &err);
        if (rc != k->want || (k->msg != NULL && strstr(err.msg, k->msg) == NULL)) {
            fprintf(stderr, "  case \"%s\": rc %d \"%s\"\n", k->what, rc, err.msg);
            CHECK(!"status case");
        }
    }
    catalog_free(c);
}

/* A note alone goes on any state; a malformed one on none. */
static void test_notes(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    for (unsigned st = 0; st < SR_STATUS_COUNT; st++) {
        service_request cur = req(1, (sr_status)st);
        lc_change ch = change();
        ch.note = "Called the reporter back";
        err_t err;
        CHECK_INT(lc_check(&cur, &ch, c, NULL, &err), ERR_OK);
        ch.note_public = true;
        CHECK_INT(lc_check(&cur, &ch, c, NULL, &err), ERR_OK);
    }
    static char big[LC_NOTE_MAX + 2];
    memset(big, 'a', LC_NOTE_MAX + 1);
    static char max[LC_NOTE_MAX + 1];
    memset(max, 'a', LC_NOTE_MAX);
    struct {
        const char *note;
        err_code want;
        const char *msg;
    } cases[] = {
        {NULL, ERR_INVALID, "nothing in it"},
        {"", ERR_INVALID, "1-4000 bytes"},
        {"   \n\t ", ERR_INVALID, "blank"},
        {"bell\a", ERR_INVALID, "control characters"},
        {"esc\x1b[31m", ERR_INVALID, "control characters"},
        {"bad \xff utf-8", ERR_INVALID, "UTF-8"},
        {"\xc3", ERR_INVALID, "UTF-8"},
        {big, ERR_INVALID, "1-4000 bytes"},
        {max, ERR_OK, NULL},
        {"Two lines\r\nand a\ttab, caf\xc3\xa9", ERR_OK, NULL},
    };
    service_request cur = req(1, SR_OPEN);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_change ch = change();
        ch.note = cases[i].note;
        err_t err = {0};
        err_code rc = lc_check(&cur, &ch, c, NULL, &err);
        if (rc != cases[i].want || (cases[i].msg && strstr(err.msg, cases[i].msg) == NULL)) {
            fprintf(stderr, "  note case %zu: rc %d \"%s\"\n", i, rc, err.msg);
            CHECK(!"note case");
        }
    }
    catalog_free(c);
}

static void test_malformed(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    service_request cur = req(1, SR_OPEN);
    err_t err = {0};
    lc_change ch = change();
    ch.note = "x";
    ch.actor = NULL;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "actor");
    ch.actor = "";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "actor");
    ch.actor = "Jane Doe"; /* a name with a space: actors are ids */
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "actor");
    ch.actor = "staff:1234567890123456789012345678901234567890123456789012345678901";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "actor");
    ch.actor = "cli:jane";
    ch.at = 0;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "no time");
    ch = change();
    ch.set_status = true;
    ch.status = SR_ACKNOWLEDGED;
    ch.transfer_to = "DSNY";
    ch.note = "both";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "one change at a time");
    ch = change();
    ch.transfer_to = "DSNY";
    ch.merge_into = 2;
    ch.note = "both";
    ch.note_public = true;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "one change at a time");
    ch = change();
    ch.merge_into = -4;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "request number");
    CHECK_INT(lc_check(NULL, &ch, c, NULL, &err), ERR_INVALID);
    CHECK_INT(lc_check(&cur, NULL, c, NULL, &err), ERR_INVALID);
    cur.status = (sr_status)11;
    ch = change();
    ch.note = "x";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "out of range");
    catalog_free(c);
}

static void test_transfer(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    err_t err = {0};
    lc_change ch = change();
    ch.transfer_to = "DSNY";
    ch.note = "Litter, not a road defect";
    for (unsigned st = 0; st < SR_STATUS_COUNT; st++) {
        service_request cur = req(1, (sr_status)st);
        if (st == SR_CLOSED)
            EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID,
                   "a closed request cannot be transferred");
        else
            EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_OK, NULL);
    }
    service_request cur = req(1, SR_ACKNOWLEDGED);
    cur.agency_code = NULL; /* routed nowhere yet: any agency will do */
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_OK, NULL);
    cur.agency_code = "DSNY";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "routed to that agency already");
    cur.agency_code = "DOT";
    ch.transfer_to = "NOPE";
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "no agency with that code");
    EXPECT(lc_check(&cur, &ch, NULL, NULL, &err), ERR_INVALID, "no agency with that code");
    ch.transfer_to = "DSNY";
    ch.note = NULL;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_INVALID, "a transfer needs a note");

    /* The event: from and to, and the new agency has not acknowledged. */
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    ch.note = "Misrouted";
    sr_event ev;
    for (unsigned st = 0; st < SR_CLOSED; st++) {
        cur = req(9, (sr_status)st);
        CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
        CHECK_INT(ev.kind, SR_EV_TRANSFER);
        CHECK_STR(ev.from_agency, "DOT");
        CHECK_STR(ev.to_agency, "DSNY");
        CHECK_INT(ev.request_id, 9);
        CHECK_INT(ev.status, st == SR_REOPENED ? SR_REOPENED : SR_OPEN);
        CHECK(!ev.public_note);
        CHECK_STR(ev.note, "Misrouted");
    }
    pool_free(pool);
    catalog_free(c);
}

static void test_merge(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    err_t err = {0};
    service_request cur = req(5, SR_ACKNOWLEDGED), target = req(3, SR_IN_PROGRESS);
    lc_change ch = change();
    ch.merge_into = 3;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_OK, NULL);
    ch.note = "Same hole, reported twice";
    ch.note_public = true;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_OK, NULL);
    ch.note_public = false;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_INVALID, "a merge's note is public");
    ch.note = NULL;
    EXPECT(lc_check(&cur, &ch, c, NULL, &err), ERR_NOT_FOUND, "no request 3 to merge into");
    service_request other = req(4, SR_OPEN);
    EXPECT(lc_check(&cur, &ch, c, &other, &err), ERR_NOT_FOUND, "no request 3");
    ch.merge_into = 5;
    EXPECT(lc_check(&cur, &ch, c, &cur, &err), ERR_INVALID, "merged into itself");
    ch.merge_into = 3;
    target.status = SR_CLOSED;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_INVALID, "request 3 is closed");
    target.status = SR_REOPENED;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_OK, NULL);
    target.merged_into = 2;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_INVALID, "itself merged");
    target.merged_into = 0;
    target.service_code = "graffiti";
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_INVALID, "of another service");
    target.service_code = "pothole";
    cur.status = SR_CLOSED;
    EXPECT(lc_check(&cur, &ch, c, &target, &err), ERR_INVALID, "a closed request cannot be merged");

    /* The event closes as a duplicate, with a public note naming 3. */
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    cur = req(5, SR_OPEN);
    sr_event ev;
    CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
    CHECK_INT(ev.kind, SR_EV_MERGE);
    CHECK_INT(ev.status, SR_CLOSED);
    CHECK_INT(ev.resolution, SR_RES_DUPLICATE);
    CHECK_INT(ev.merged_into, 3);
    CHECK(ev.public_note);
    CHECK_STR(ev.note, "Duplicate of request 3.");
    ch.note = "Same hole.";
    ch.note_public = true;
    CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
    CHECK_STR(ev.note, "Duplicate of request 3. Same hole.");
    pool_free(pool);
    catalog_free(c);
}

/* The other events: a note keeps the status; a status change sets it. */
static void test_events(void)
{
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    err_t err;
    sr_event ev;
    service_request cur = req(2, SR_IN_PROGRESS);
    lc_change ch = change();
    ch.note = "internal words";
    CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
    CHECK_INT(ev.kind, SR_EV_NOTE);
    CHECK_INT(ev.status, SR_IN_PROGRESS);
    CHECK(!ev.public_note);
    CHECK_STR(ev.actor, "staff:7");
    CHECK_INT(ev.at, 2000);
    CHECK(ev.from_agency == NULL && ev.to_agency == NULL && ev.merged_into == 0);
    ch.set_status = true;
    ch.status = SR_CLOSED;
    ch.resolution = SR_RES_FIXED;
    ch.note = NULL;
    CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
    CHECK_INT(ev.kind, SR_EV_STATUS);
    CHECK_INT(ev.status, SR_CLOSED);
    CHECK_INT(ev.resolution, SR_RES_FIXED);
    CHECK(ev.note == NULL && !ev.public_note);
    cur = req(2, SR_CLOSED);
    ch.status = SR_REOPENED;
    ch.resolution = SR_RES_NONE;
    ch.note = "Back again";
    ch.note_public = true;
    CHECK_INT(lc_event(&cur, &ch, pool, &ev, &err), ERR_OK);
    CHECK_INT(ev.status, SR_REOPENED);
    CHECK_INT(ev.resolution, SR_RES_NONE);
    CHECK(ev.public_note);
    CHECK_INT(lc_change_kind(&ch), LC_STATUS);
    pool_free(pool);
}

TEST_MAIN(TEST(test_every_edge), TEST(test_status_cases), TEST(test_notes), TEST(test_malformed),
          TEST(test_transfer), TEST(test_merge), TEST(test_events))

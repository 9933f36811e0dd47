/* Identity and policy checks (DDB-02, 03, 05, 11, 12, 14, 15): they ask the policy engine
 * (policy.c) who may do what to which table and turn its answer into findings. They never read
 * files or decide anything the engine could not see: missing evidence is Review, and every Pass
 * cites the evidence it rests on. */
#include "buf.h"
#include "catalog.h"
#include "check.h"
#include "checks_activity.h"
#include "date.h"
#include "diag.h"
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT 10 /* names listed in one finding's reason before "and N more" */
#define NOTE_LIMIT 50 /* analysis notes copied into one control's result */

/* ---------------------------------------------------------------- the analysis */

struct table_slot {
    const char *arn;
    size_t index;
};

struct identity {
    char scope[256]; /* the account, as a resource */
    const struct evidence_call *details;
    struct policy_input input;
    struct policy_analysis *analysis;
    struct table_slot *by_arn; /* analysis tables sorted by ARN */
};

static int slot_order(const void *a, const void *b)
{
    return strcmp(((const struct table_slot *)a)->arn, ((const struct table_slot *)b)->arn);
}

/* One analysis per evaluation, shared by the identity checks through the evaluator's memo:
 * building it is most of their cost, and five controls need the same answer. */
struct shared_analysis {
    struct policy_input input;
    struct policy_analysis *analysis;
    json_t *notes; /* what the input and the analysis could not see */
    struct table_slot *by_arn;
};

static void shared_free(void *value)
{
    struct shared_analysis *shared = value;
    if (!shared)
        return;
    policy_analysis_free(shared->analysis);
    policy_input_release(&shared->input);
    free(shared->by_arn);
    json_decref(shared->notes);
    free(shared);
}

static void identity_release(struct identity *id)
{
    /* The analysis belongs to the memo; only the view is released. */
    memset(id, 0, sizeof(*id));
}

static void *shared_build(struct check_context *ctx, const char *key)
{
    (void)key;
    struct diagnostics d;
    diag_init(&d);
    struct shared_analysis *shared = calloc(1, sizeof(*shared));
    int rc = shared ? 0 : DDB_ERUNTIME;
    if (rc == 0)
        rc = (shared->notes = json_array()) ? 0 : DDB_ERUNTIME;
    if (rc == 0)
        rc = policy_input_from_snapshot(&shared->input, ctx->evidence, shared->notes, &d);
    if (rc == 0)
        rc = policy_analyze(&shared->analysis, &shared->input, &d);
    if (rc == 0) {
        json_array_extend(shared->notes, shared->analysis->notes);
        size_t n = shared->analysis->table_count;
        shared->by_arn = n ? malloc(n * sizeof(*shared->by_arn)) : NULL;
        if (n && !shared->by_arn)
            rc = DDB_ERUNTIME;
        for (size_t t = 0; shared->by_arn && t < n; t++)
            shared->by_arn[t] = (struct table_slot){shared->analysis->tables[t].arn, t};
        if (shared->by_arn)
            qsort(shared->by_arn, n, sizeof(*shared->by_arn), slot_order);
    }
    diag_free(&d);
    if (rc < 0) {
        shared_free(shared);
        return NULL;
    }
    return shared;
}

json_t *identity_access_matrix(struct check_context *ctx)
{
    const struct evidence_call *details =
        evidence_find(ctx->evidence, "global", "iam", "GetAccountAuthorizationDetails", NULL);
    if (!details || details->outcome != EVIDENCE_OK)
        return NULL;
    struct shared_analysis *shared =
        check_memo(ctx, "identity:analysis", shared_build, shared_free);
    json_t *matrix = shared ? policy_analysis_matrix(shared->analysis) : NULL;
    /* The notes of the input (a region without ListTables, a resource policy that was denied)
     * belong in the report as much as the analysis's own. */
    if (matrix)
        json_object_set(matrix, "notes", shared->notes);
    return matrix;
}

/* Runs (or reuses) the policy analysis for one check. Returns 1 when it is ready, 0 when the
 * authorization details are missing (a Review finding was added), negative on a runtime
 * failure. */
static int identity_load(struct check_context *ctx, struct identity *id)
{
    memset(id, 0, sizeof(*id));
    check_account_scope(ctx, id->scope, sizeof(id->scope));
    id->details =
        check_require(ctx, id->scope, "global", "iam", "GetAccountAuthorizationDetails", NULL);
    if (!id->details)
        return 0;
    if (id->details->outcome != EVIDENCE_OK || !json_is_object(id->details->document)) {
        struct finding *f = result_add_finding(
            ctx->result, id->scope, STATUS_REVIEW,
            "iam GetAccountAuthorizationDetails returned no authorization details");
        check_cite(ctx, f, id->details, "");
        return 0;
    }
    struct shared_analysis *shared =
        check_memo(ctx, "identity:analysis", shared_build, shared_free);
    if (!shared)
        return DDB_ERUNTIME;
    id->input = shared->input;
    id->analysis = shared->analysis;
    id->by_arn = shared->by_arn;
    size_t i;
    json_t *text;
    json_array_foreach(shared->notes, i, text)
    {
        if (i == NOTE_LIMIT) {
            result_add_note(ctx->result, "and %zu more notes from the policy analysis",
                            json_array_size(shared->notes) - NOTE_LIMIT);
            break;
        }
        result_add_note(ctx->result, "%s", json_string_value(text));
    }
    return 1;
}

static size_t table_index(const struct identity *id, const char *arn)
{
    struct table_slot key = {arn, 0};
    const struct table_slot *found =
        id->analysis->table_count
            ? bsearch(&key, id->by_arn, id->analysis->table_count, sizeof(key), slot_order)
            : NULL;
    return found ? found->index : (size_t)-1;
}

/* check_each_table's visitor has no user pointer; the running check's analysis is kept here for
 * the duration of one check_each_table call (one per thread). */
static _Thread_local struct identity *current;

/* ---------------------------------------------------------------- small helpers */

static struct policy_action_set set_minus(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] & ~b.bits[0], a.bits[1] & ~b.bits[1]}};
}

static struct policy_action_set set_and(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] & b.bits[0], a.bits[1] & b.bits[1]}};
}

static struct policy_action_set set_or(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] | b.bits[0], a.bits[1] | b.bits[1]}};
}

/* Actions on tables (and their indexes, streams, backups): what "DynamoDB access" means here.
 * Actions DynamoDB only authorizes on "*" (ListTables, DescribeLimits, ...) reach no data. */
static struct policy_action_set table_actions(struct policy_action_set set)
{
    return set_minus(set, policy_group_set(POLICY_GROUP_ACCOUNT));
}

static int has_table_access(const struct policy_principal *p)
{
    struct policy_action_set set = table_actions(p->any);
    return !policy_action_set_empty(&set);
}

/* "read, write and admin" for the groups a set touches. */
static void groups_text(struct buf *b, struct policy_action_set set)
{
    int written = 0, total = 0;
    for (int g = 0; g < POLICY_MATRIX_GROUPS; g++) {
        struct policy_action_set in = set_and(set, policy_group_set((enum policy_action_group)g));
        total += !policy_action_set_empty(&in);
    }
    for (int g = 0; g < POLICY_MATRIX_GROUPS; g++) {
        struct policy_action_set in = set_and(set, policy_group_set((enum policy_action_group)g));
        if (policy_action_set_empty(&in))
            continue;
        written++;
        buf_printf(b, "%s%s",
                   written == 1       ? ""
                   : written == total ? " and "
                                      : ", ",
                   policy_group_name((enum policy_action_group)g));
    }
    if (!written)
        buf_puts(b, "no table");
}

/* "dynamodb:DeleteTable, dynamodb:UpdateTable" for the actions of a set. */
static void actions_text(struct buf *b, struct policy_action_set set)
{
    int first = 1;
    for (size_t i = 0; i < policy_action_count; i++) {
        if (!policy_action_set_has(&set, i))
            continue;
        buf_printf(b, "%sdynamodb:%s", first ? "" : ", ", policy_actions[i].name);
        first = 0;
    }
}

/* Appends a name to a bounded list text: "a, b, c and 4 more" once `count` is known. */
static void list_add(struct buf *b, size_t *count, const char *name)
{
    if (*count < LIST_LIMIT)
        buf_printf(b, "%s%s", *count ? ", " : "", name);
    (*count)++;
}

static void list_finish(struct buf *b, size_t count)
{
    if (count > LIST_LIMIT)
        buf_printf(b, " and %zu more", count - LIST_LIMIT);
}

static const char *statement_label(struct buf *b, const struct policy_document *doc,
                                   const struct policy_statement *st)
{
    buf_reset(b);
    buf_printf(b, "statement %zu", st->index);
    if (st->sid)
        buf_printf(b, " (Sid \"%s\")", st->sid);
    buf_printf(b, " of %s", doc->name);
    return buf_cstr(b);
}

/* Cites a statement where it sits in its evidence file (or the document, when the document
 * arrived as a string). */
static void cite_statement(struct check_context *ctx, struct finding *f,
                           const struct policy_document *doc, const struct policy_statement *st)
{
    if (!doc->call)
        return;
    const char *pointer = st && st->pointer ? st->pointer : doc->pointer;
    check_cite(ctx, f, doc->call, pointer ? pointer : "");
}

static void cite_principal(struct check_context *ctx, struct finding *f, const struct identity *id,
                           const struct policy_principal *p)
{
    if (p->pointer) {
        char pointer[128];
        snprintf(pointer, sizeof(pointer), "%s/Arn", p->pointer);
        check_cite(ctx, f, id->details, pointer);
    }
}

/* Why a principal's access cannot be fully known: a malformed or missing policy reaches it. */
static int principal_unanalysable(const struct policy_principal *p, struct buf *why)
{
    for (size_t i = 0; i < p->policy_count; i++) {
        if (p->policies[i]->error) {
            buf_printf(why, "policy %s could not be read: %s", p->policies[i]->name,
                       p->policies[i]->error);
            return 1;
        }
    }
    if (p->unresolved_policies) {
        buf_printf(why, "%zu attached managed polic%s not in the authorization details",
                   p->unresolved_policies, p->unresolved_policies == 1 ? "y is" : "ies are");
        return 1;
    }
    return 0;
}

/* Adds a Review finding per user/role whose policies could not all be read. Returns how many. */
static size_t review_unanalysable(struct check_context *ctx, const struct identity *id,
                                  const char *consequence)
{
    size_t count = 0;
    struct buf why;
    buf_init(&why, 4096);
    for (size_t i = 0; i < id->analysis->principal_count; i++) {
        const struct policy_principal *p = &id->analysis->principals[i];
        if (p->type != POLICY_PRINCIPAL_USER && p->type != POLICY_PRINCIPAL_ROLE)
            continue;
        buf_reset(&why);
        if (!principal_unanalysable(p, &why))
            continue;
        struct finding *f = result_add_finding(ctx->result, p->arn, STATUS_REVIEW, "%s: %s",
                                               buf_cstr(&why), consequence);
        cite_principal(ctx, f, id, p);
        for (size_t k = 0; k < p->policy_count; k++)
            if (p->policies[k]->error)
                cite_statement(ctx, f, p->policies[k], NULL);
        count++;
    }
    buf_free(&why);
    return count;
}

/* The first statement behind a principal's cell (its own grants, then its all-tables ones)
 * that allows any action of `wanted`, or with wanted empty, that denies plain HTTP. */
static const struct policy_grant *granting(const struct policy_principal *p,
                                           const struct policy_cell *cell,
                                           struct policy_action_set wanted)
{
    const struct policy_cell *cells[2] = {cell, &p->all};
    for (int c = 0; c < 2; c++) {
        for (size_t i = 0; i < cells[c]->grant_count; i++) {
            const struct policy_statement *st = cells[c]->grants[i].statement;
            struct policy_action_set hit = set_and(st->dynamodb_actions, wanted);
            if (policy_action_set_empty(&wanted)
                    ? st->effect == POLICY_DENY && policy_condition_denies_plaintext(st->condition)
                    : st->effect == POLICY_ALLOW && !policy_action_set_empty(&hit))
                return &cells[c]->grants[i];
        }
        if (cell == &p->all)
            break;
    }
    return NULL;
}

/* ---------------------------------------------------------------- credential report */

struct credential_report {
    char *text;     /* decoded CSV, split in place */
    char **fields;  /* rows × columns */
    size_t columns; /* from the header row */
    size_t rows;    /* data rows (header excluded) */
    const struct evidence_call *call;
};

static int base64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static char *base64_decode(const char *in, size_t *len)
{
    size_t n = strlen(in);
    char *out = malloc(n / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=' || isspace((unsigned char)in[i]))
            continue;
        int v = base64_value((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

static void credential_report_free(struct credential_report *r)
{
    free(r->text);
    free(r->fields);
    memset(r, 0, sizeof(*r));
}

/* Decodes GetCredentialReport's Content (base64 CSV; the report has no quoted fields). Returns 0,
 * or -1 when it is not a credential report. */
static int credential_report_load(struct credential_report *r, const struct evidence_call *call)
{
    memset(r, 0, sizeof(*r));
    r->call = call;
    const char *content = json_string_value(json_object_get(call->document, "Content"));
    size_t len = 0;
    if (!content || !(r->text = base64_decode(content, &len)) || memchr(r->text, '\0', len))
        return -1;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += r->text[i] == '\n';
    char *line = r->text;
    char *end = strchr(line, '\n');
    if (end)
        *end = '\0';
    r->columns = 1;
    for (char *c = line; *c; c++)
        r->columns += *c == ',';
    if (strncmp(line, "user,arn,", 9))
        return -1;
    r->fields = calloc((lines + 1) * r->columns, sizeof(*r->fields));
    if (!r->fields)
        return -1;
    size_t row = 0;
    while (line) {
        char *next = end ? end + 1 : NULL;
        if (*line) {
            size_t col = 0;
            char *field = line;
            while (field && col < r->columns) {
                char *comma = strchr(field, ',');
                if (comma)
                    *comma = '\0';
                size_t flen = strlen(field);
                if (flen && field[flen - 1] == '\r')
                    field[flen - 1] = '\0';
                r->fields[row * r->columns + col++] = field;
                field = comma ? comma + 1 : NULL;
            }
            row++;
        }
        line = next;
        end = line ? strchr(line, '\n') : NULL;
        if (end)
            *end = '\0';
    }
    r->rows = row ? row - 1 : 0;
    return 0;
}

static long credential_column(const struct credential_report *r, const char *name)
{
    for (size_t c = 0; c < r->columns; c++)
        if (r->fields[c] && !strcmp(r->fields[c], name))
            return (long)c;
    return -1;
}

/* The field of data row `row` (0-based) in `column`, or "" when absent. */
static const char *credential_field(const struct credential_report *r, size_t row,
                                    const char *column)
{
    long c = credential_column(r, column);
    const char *value = c >= 0 ? r->fields[(row + 1) * r->columns + (size_t)c] : NULL;
    return value ? value : "";
}

static long credential_row(const struct credential_report *r, const char *column, const char *value)
{
    for (size_t row = 0; row < r->rows; row++)
        if (!strcmp(credential_field(r, row, column), value))
            return (long)row;
    return -1;
}

static const char *const credential_cited_columns[] = {
    "user",
    "arn",
    "password_enabled",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    NULL,
};

/* Cites one row of the report: the decoded fields that matter, under /Content. */
static void cite_credential_row(struct check_context *ctx, struct finding *f,
                                const struct credential_report *r, size_t row)
{
    json_t *value = json_object();
    json_object_set_new(value, "row", json_integer((json_int_t)row + 1));
    for (int i = 0; credential_cited_columns[i]; i++)
        if (credential_column(r, credential_cited_columns[i]) >= 0)
            json_object_set_new(value, credential_cited_columns[i],
                                json_string(credential_field(r, row, credential_cited_columns[i])));
    check_cite_value(ctx, f, r->call, "/Content", value);
}

/* Days from a report timestamp ("2024-01-15T10:00:00+00:00") to as_of; -1 if unknown. */
static long days_since(const char *timestamp, const char *as_of)
{
    char date[11];
    long then, now;
    if (strlen(timestamp) < 10)
        return -1;
    memcpy(date, timestamp, 10);
    date[10] = '\0';
    if (date_parse(date, &then) < 0 || !as_of || date_parse(as_of, &now) < 0)
        return -1;
    return now - then;
}

static long review_unseen_resource_policies(struct check_context *ctx, const struct identity *id,
                                            const char *consequence);

/* ---------------------------------------------------------------- use in the period */

/* The first day use is looked for: the snapshot's audit period, else the 90 days before as_of. */
static long use_since(const struct check_context *ctx, char text[11])
{
    long day = 0;
    if (!ctx->evidence->period_start || date_parse(ctx->evidence->period_start, &day) < 0) {
        long as_of = 0;
        date_parse(ctx->as_of, &as_of);
        day = as_of - 90;
    }
    date_format(day, text);
    return day;
}

/* The day of a timestamp's date ("2026-09-30T15:12:40+00:00"), or -1 when there is none ("N/A",
 * "no_information", empty). */
static long timestamp_day(const char *timestamp)
{
    char date[11];
    long day;
    if (!timestamp || strlen(timestamp) < 10)
        return -1;
    memcpy(date, timestamp, 10);
    date[10] = '\0';
    return date_parse(date, &day) < 0 ? -1 : day;
}

enum use_seen { USE_SEEN, USE_NONE, USE_UNKNOWN };

/* Whether a principal shows any use since `since`: a role by RoleLastUsed in the authorization
 * details, a user by the credential report's password and access key last-used dates. IAM
 * records any use, not DynamoDB use alone, so "no use" is the strong statement and "use" a weak
 * one. *last is the newest day seen (-1 for none). */
static enum use_seen principal_use(const struct policy_principal *p,
                                   const struct credential_report *report, long since, long *last)
{
    *last = -1;
    if (p->type == POLICY_PRINCIPAL_ROLE) {
        if (!p->detail || !json_object_get(p->detail, "RoleLastUsed"))
            return USE_UNKNOWN; /* not reported at all: an old CLI or a trimmed document */
        *last = timestamp_day(
            json_string_value(json_pointer_get(p->detail, "/RoleLastUsed/LastUsedDate")));
    } else if (p->type == POLICY_PRINCIPAL_USER) {
        long row = report && report->fields ? credential_row(report, "arn", p->arn) : -1;
        if (row < 0)
            return USE_UNKNOWN;
        static const char *const columns[] = {"password_last_used", "access_key_1_last_used_date",
                                              "access_key_2_last_used_date"};
        for (size_t c = 0; c < sizeof(columns) / sizeof(columns[0]); c++) {
            long day = timestamp_day(credential_field(report, (size_t)row, columns[c]));
            if (day > *last)
                *last = day;
        }
    } else {
        return USE_UNKNOWN;
    }
    return *last >= since ? USE_SEEN : USE_NONE;
}

/* ---------------------------------------------------------------- DDB-02 */

/* "key 1 (412 days old, last used 2026-09-01)" for each active key of a row; returns count. */
static int active_keys(struct buf *b, const struct credential_report *r, size_t row,
                       const char *as_of)
{
    int count = 0;
    for (int k = 1; k <= 2; k++) {
        char column[64];
        snprintf(column, sizeof(column), "access_key_%d_active", k);
        if (strcmp(credential_field(r, row, column), "true"))
            continue;
        snprintf(column, sizeof(column), "access_key_%d_last_rotated", k);
        long age = days_since(credential_field(r, row, column), as_of);
        snprintf(column, sizeof(column), "access_key_%d_last_used_date", k);
        const char *used = credential_field(r, row, column);
        buf_printf(b, "%saccess key %d (", count ? ", " : "", k);
        if (age >= 0)
            buf_printf(b, "%ld days old", age);
        else
            buf_puts(b, "age unknown");
        buf_printf(b, ", %s%.10s)", strcmp(used, "N/A") && *used ? "last used " : "never used",
                   strcmp(used, "N/A") && *used ? used : "");
        count++;
    }
    return count;
}

int check_identity_authentication(struct check_context *ctx)
{
    struct identity id;
    struct credential_report report = {0};
    struct buf text;
    int rc = identity_load(ctx, &id);
    if (rc <= 0)
        return rc;
    buf_init(&text, 1 << 16);
    const struct evidence_call *summary =
        check_require(ctx, id.scope, "global", "iam", "GetAccountSummary", NULL);
    const struct evidence_call *credentials =
        check_require(ctx, id.scope, "global", "iam", "GetCredentialReport", NULL);
    int have_report = credentials && credentials->outcome == EVIDENCE_OK &&
                      credential_report_load(&report, credentials) == 0;
    if (credentials && !have_report) {
        struct finding *f = result_add_finding(
            ctx->result, id.scope, STATUS_REVIEW,
            "the credential report cannot be read (Content is not a base64 CSV credential "
            "report), so access keys cannot be checked");
        check_cite(ctx, f, credentials, "/Content");
    }

    /* Users with DynamoDB access: an active access key needs an owner's justification. */
    size_t roles = 0, users = 0, users_with_keys = 0;
    for (size_t i = 0; i < id.analysis->principal_count; i++) {
        const struct policy_principal *p = &id.analysis->principals[i];
        if (!has_table_access(p))
            continue;
        if (p->type == POLICY_PRINCIPAL_ROLE) {
            roles++;
            continue;
        }
        if (p->type != POLICY_PRINCIPAL_USER)
            continue;
        users++;
        buf_reset(&text);
        groups_text(&text, table_actions(p->any));
        if (!have_report) {
            struct finding *f = result_add_finding(
                ctx->result, p->arn, STATUS_REVIEW,
                "IAM user %s has %s access to DynamoDB; without the credential report its access "
                "keys cannot be checked",
                p->name, buf_cstr(&text));
            cite_principal(ctx, f, &id, p);
            continue;
        }
        long row = credential_row(&report, "arn", p->arn);
        if (row < 0) {
            struct finding *f = result_add_finding(
                ctx->result, p->arn, STATUS_REVIEW,
                "IAM user %s has %s access to DynamoDB but is not in the credential report "
                "(created after it was generated?)",
                p->name, buf_cstr(&text));
            cite_principal(ctx, f, &id, p);
            continue;
        }
        struct buf keys;
        buf_init(&keys, 4096);
        if (active_keys(&keys, &report, (size_t)row, ctx->as_of)) {
            users_with_keys++;
            struct finding *f = result_add_finding(
                ctx->result, p->arn, STATUS_REVIEW,
                "IAM user %s has %s access to DynamoDB and a long-term credential: %s; use a "
                "role, or record who owns the key and why",
                p->name, buf_cstr(&text), buf_cstr(&keys));
            cite_principal(ctx, f, &id, p);
            cite_credential_row(ctx, f, &report, (size_t)row);
        } else {
            struct finding *f =
                result_add_finding(ctx->result, p->arn, STATUS_PASS,
                                   "IAM user %s has %s access to DynamoDB and no active access key",
                                   p->name, buf_cstr(&text));
            cite_principal(ctx, f, &id, p);
            cite_credential_row(ctx, f, &report, (size_t)row);
        }
        buf_free(&keys);
    }
    review_unanalysable(ctx, &id, "its DynamoDB access cannot be fully determined");
    long unseen = review_unseen_resource_policies(
        ctx, &id, "IAM users it grants DynamoDB access to would not be seen");
    if (unseen < 0) {
        buf_free(&text);
        credential_report_free(&report);
        identity_release(&id);
        return (int)unseen;
    }

    /* The root user: no access keys at all. */
    if (summary) {
        json_t *present =
            json_pointer_get(summary->document, "/SummaryMap/AccountAccessKeysPresent");
        long root_row = have_report ? credential_row(&report, "user", "<root_account>") : -1;
        struct buf root_keys;
        buf_init(&root_keys, 1024);
        int root_active =
            root_row >= 0 && active_keys(&root_keys, &report, (size_t)root_row, ctx->as_of);
        if (!json_is_integer(present)) {
            struct finding *f = result_add_finding(
                ctx->result, id.scope, STATUS_REVIEW,
                "the account summary has no SummaryMap.AccountAccessKeysPresent");
            check_cite(ctx, f, summary, "/SummaryMap");
        } else if (json_integer_value(present) > 0 || root_active) {
            struct finding *f = result_add_finding(
                ctx->result, id.scope, STATUS_REMEDIATE,
                "the root user has an access key%s%s: delete it (root access keys cannot be "
                "limited by any policy)",
                root_active ? ": " : "", buf_cstr(&root_keys));
            check_cite(ctx, f, summary, "/SummaryMap/AccountAccessKeysPresent");
            if (root_row >= 0)
                cite_credential_row(ctx, f, &report, (size_t)root_row);
        } else {
            struct finding *f = result_add_finding(
                ctx->result, id.scope, STATUS_PASS,
                "the root user has no access key; %zu role%s and %zu IAM user%s have DynamoDB "
                "access, %zu of the users with an active access key",
                roles, roles == 1 ? "" : "s", users, users == 1 ? "" : "s", users_with_keys);
            check_cite(ctx, f, summary, "/SummaryMap/AccountAccessKeysPresent");
            if (root_row >= 0)
                cite_credential_row(ctx, f, &report, (size_t)root_row);
            check_cite_value(ctx, f, id.details, "/RoleDetailList",
                             json_pack("{s:I, s:I}", "roles_with_dynamodb_access",
                                       (json_int_t)roles, "users_with_dynamodb_access",
                                       (json_int_t)users));
        }
        buf_free(&root_keys);
    }
    buf_free(&text);
    credential_report_free(&report);
    identity_release(&id);
    return 0;
}

/* ---------------------------------------------------------------- DDB-03 */

/* Whether a resource pattern reaches every table of some region of the snapshot (a probe name no
 * real table can have: '#' is not allowed in table names). */
static int covers_every_table(const struct check_context *ctx, const struct policy_statement *st)
{
    if (st->not_resource)
        return 1; /* everything but a few ARNs */
    for (size_t r = 0; r < st->resource_count; r++) {
        if (!strcmp(st->resources[r], "*"))
            return 1;
        for (size_t g = 0; g < ctx->evidence->region_count; g++) {
            char probe[512];
            snprintf(probe, sizeof(probe), "arn:%s:dynamodb:%s:%s:table/#probe",
                     ctx->evidence->partition, ctx->evidence->regions[g], ctx->evidence->account);
            if (policy_arn_matches(st->resources[r], probe))
                return 1;
        }
    }
    return 0;
}

/* Which of a broad grant's principals show no use in the period (DDB-03's "unused broad
 * grants"): their names, the first LIST_LIMIT of them to cite, and how many cannot be told. */
struct grant_use {
    const struct credential_report *report; /* NULL-safe: users' use is then unknown */
    long since;
    struct buf idle;
    size_t idle_count, unknown_count;
    const struct policy_principal *cited[LIST_LIMIT];
};

/* Principals a document reaches: "a, b and N more" into b; returns the count. With `use`, also
 * sorts them by whether they show use since use->since. */
static size_t document_principals(const struct identity *id, const struct policy_document *doc,
                                  struct buf *b, struct grant_use *use)
{
    size_t count = 0;
    if (use) {
        buf_reset(&use->idle);
        use->idle_count = use->unknown_count = 0;
    }
    for (size_t i = 0; i < id->analysis->principal_count; i++) {
        const struct policy_principal *p = &id->analysis->principals[i];
        if (strstr(p->arn, ":role/aws-service-role/"))
            continue;
        for (size_t k = 0; k < p->policy_count; k++) {
            if (p->policies[k] != doc)
                continue;
            list_add(b, &count, p->arn);
            long last;
            enum use_seen seen = use ? principal_use(p, use->report, use->since, &last) : USE_SEEN;
            if (seen == USE_UNKNOWN)
                use->unknown_count++;
            if (seen == USE_NONE) {
                if (use->idle_count < LIST_LIMIT)
                    use->cited[use->idle_count] = p;
                list_add(&use->idle, &use->idle_count, p->arn);
            }
            break;
        }
    }
    list_finish(b, count);
    if (use)
        list_finish(&use->idle, use->idle_count);
    return count;
}

/* Cites where a principal's last use is recorded: RoleLastUsed, or its credential report row. */
static void cite_use(struct check_context *ctx, struct finding *f, const struct identity *id,
                     const struct policy_principal *p, const struct credential_report *report)
{
    if (p->type == POLICY_PRINCIPAL_ROLE && p->pointer) {
        char pointer[160];
        snprintf(pointer, sizeof(pointer), "%s/RoleLastUsed", p->pointer);
        check_cite(ctx, f, id->details, pointer);
    } else if (p->type == POLICY_PRINCIPAL_USER && report && report->fields) {
        long row = credential_row(report, "arn", p->arn);
        if (row >= 0)
            cite_credential_row(ctx, f, report, (size_t)row);
    }
}

/* The resource a finding about a policy is filed under: a managed policy's ARN, or the owner of
 * an inline policy. */
static void document_resource(const struct policy_document *doc, char *out, size_t size)
{
    const char *hash = strrchr(doc->name, '#');
    size_t n = hash && doc->source != POLICY_SOURCE_MANAGED ? (size_t)(hash - doc->name)
                                                            : strlen(doc->name);
    snprintf(out, size, "%.*s", (int)n, doc->name);
}

static int visit_require_resource_policy(struct check_context *ctx, const struct table_ref *table)
{
    check_require(ctx, table->arn, table->region, "dynamodb", "GetResourcePolicy", table->name);
    return 0;
}

/* A table's resource policy can grant to IAM users and roles of this account and to other
 * accounts, so a check that lists who holds access cannot Pass while one is unseen: Review for
 * every table whose GetResourcePolicy is missing, denied or failed, and for every table or stream
 * policy that cannot be read. Returns how many findings it added (negative on a failure). */
static long review_unseen_resource_policies(struct check_context *ctx, const struct identity *id,
                                            const char *consequence)
{
    size_t before = ctx->result->finding_count;
    int rc = check_each_table(ctx, visit_require_resource_policy);
    if (rc < 0)
        return rc;
    for (size_t t = 0; t < id->analysis->table_count; t++) {
        const struct policy_table *table = &id->analysis->tables[t];
        const struct policy_document *docs[2] = {table->resource_policy, table->stream_policy};
        for (int k = 0; k < 2; k++) {
            if (!docs[k] || !docs[k]->error)
                continue;
            struct finding *f =
                result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                                   "the %s resource policy cannot be read (%s): %s",
                                   k ? "stream's" : "table's", docs[k]->error, consequence);
            cite_statement(ctx, f, docs[k], NULL);
        }
    }
    return (long)(ctx->result->finding_count - before);
}

int check_identity_least_privilege(struct check_context *ctx)
{
    struct identity id;
    int rc = identity_load(ctx, &id);
    if (rc <= 0)
        return rc;
    struct buf label, who, what;
    buf_init(&label, 4096);
    buf_init(&who, 1 << 16);
    buf_init(&what, 1 << 16);
    size_t flagged = 0, examined = 0, unattached = 0;
    /* Use in the period, for listing broad grants nobody uses (RoleLastUsed needs no other call;
     * users' last use comes from the credential report when it was collected). */
    struct credential_report report = {0};
    const struct evidence_call *credentials =
        evidence_find(ctx->evidence, "global", "iam", "GetCredentialReport", NULL);
    if (!credentials || credentials->outcome != EVIDENCE_OK ||
        credential_report_load(&report, credentials) < 0) {
        credential_report_free(&report);
        memset(&report, 0, sizeof(report));
    }
    char since_text[11];
    struct grant_use use = {.report = &report, .since = use_since(ctx, since_text)};
    buf_init(&use.idle, 1 << 16);
    /* Metadata reads (Describe*, ListTagsOfResource, GetResourcePolicy) on every table are what
     * monitoring and audit roles need; only data and configuration actions count here. */
    struct policy_action_set all_table =
        set_minus(table_actions(policy_all_actions_set()), policy_group_set(POLICY_GROUP_DESCRIBE));
    for (size_t i = 0; i < id.analysis->document_count; i++) {
        const struct policy_document *doc = id.analysis->documents[i];
        if (doc->source != POLICY_SOURCE_MANAGED && doc->source != POLICY_SOURCE_INLINE)
            continue;
        examined++;
        for (size_t s = 0; s < doc->statement_count; s++) {
            const struct policy_statement *st = &doc->statements[s];
            struct policy_action_set acts = set_and(st->dynamodb_actions, all_table);
            if (st->effect != POLICY_ALLOW || policy_action_set_empty(&acts))
                continue;
            int everything = st->all_dynamodb;
            int everywhere = covers_every_table(ctx, st);
            if (!everything && !everywhere)
                continue;
            acts = set_and(acts, all_table);
            buf_reset(&what);
            if (everything)
                buf_puts(&what, "allows dynamodb:*");
            else {
                buf_puts(&what, "allows ");
                groups_text(&what, acts);
                buf_puts(&what, " actions");
            }
            buf_puts(&what, everywhere ? " on every table" : " on the tables it names");
            if (!doc->attachments) {
                if (doc->boundary_uses)
                    continue; /* a boundary grants nothing; it only limits */
                if (unattached++ < LIST_LIMIT)
                    result_add_note(ctx->result,
                                    "unattached policy %s %s (it grants nothing until attached)",
                                    statement_label(&label, doc, st), buf_cstr(&what));
                continue;
            }
            buf_reset(&who);
            size_t principals = document_principals(&id, doc, &who, &use);
            if (!principals) {
                /* It reaches only service-linked roles, whose policies AWS owns. */
                continue;
            }
            char resource[512];
            document_resource(doc, resource, sizeof(resource));
            enum status status = st->condition ? STATUS_REVIEW : STATUS_REMEDIATE;
            struct buf unused;
            buf_init(&unused, 1 << 17);
            if (use.idle_count == principals)
                buf_printf(&unused,
                           "; none of them shows any use since %s (RoleLastUsed, "
                           "credential report), so the grant is unused",
                           since_text);
            else if (use.idle_count)
                buf_printf(&unused,
                           "; %zu of them show%s no use since %s (RoleLastUsed, "
                           "credential report): %s",
                           use.idle_count, use.idle_count == 1 ? "s" : "", since_text,
                           buf_cstr(&use.idle));
            if (use.unknown_count)
                buf_printf(&unused,
                           "; whether %zu of them were used cannot be told from the "
                           "evidence",
                           use.unknown_count);
            struct finding *f = result_add_finding(
                ctx->result, resource, status, "%s %s%s; it reaches %zu principal%s: %s%s",
                statement_label(&label, doc, st), buf_cstr(&what),
                st->condition ? ", narrowed only by conditions the check cannot evaluate" : "",
                principals, principals == 1 ? "" : "s", buf_cstr(&who), buf_cstr(&unused));
            buf_free(&unused);
            cite_statement(ctx, f, doc, st);
            for (size_t k = 0; k < use.idle_count && k < LIST_LIMIT; k++)
                cite_use(ctx, f, &id, use.cited[k], &report);
            flagged++;
        }
    }
    if (unattached > LIST_LIMIT)
        result_add_note(ctx->result, "and %zu more unattached broad statements",
                        unattached - LIST_LIMIT);

    /* Resource policies: dynamodb:* granted on a table or stream. */
    current = &id;
    rc = check_each_table(ctx, visit_require_resource_policy);
    current = NULL;
    for (size_t t = 0; rc == 0 && t < id.analysis->table_count; t++) {
        const struct policy_table *table = &id.analysis->tables[t];
        const struct policy_document *docs[2] = {table->resource_policy, table->stream_policy};
        for (int k = 0; k < 2; k++) {
            if (!docs[k])
                continue;
            examined++;
            if (docs[k]->error) {
                struct finding *f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                                                       "the resource policy %s cannot be read: %s",
                                                       docs[k]->name, docs[k]->error);
                cite_statement(ctx, f, docs[k], NULL);
                continue;
            }
            for (size_t s = 0; s < docs[k]->statement_count; s++) {
                const struct policy_statement *st = &docs[k]->statements[s];
                if (st->effect != POLICY_ALLOW || !st->all_dynamodb)
                    continue;
                struct finding *f = result_add_finding(
                    ctx->result, table->arn, st->condition ? STATUS_REVIEW : STATUS_REMEDIATE,
                    "%s allows dynamodb:* on the %s%s", statement_label(&label, docs[k], st),
                    k ? "stream" : "table",
                    st->condition ? ", narrowed only by conditions the check cannot evaluate" : "");
                cite_statement(ctx, f, docs[k], st);
                flagged++;
            }
        }
    }
    size_t unreadable = review_unanalysable(ctx, &id, "a broad grant in it would not be seen");
    if (rc == 0 && !flagged && !unreadable) {
        struct finding *f = result_add_finding(
            ctx->result, id.scope, STATUS_PASS,
            "none of %zu identity and resource policies grants dynamodb:* or a DynamoDB table "
            "action on every table to a principal",
            examined);
        check_cite_value(ctx, f, id.details, "/Policies",
                         json_pack("{s:I}", "policies_examined", (json_int_t)examined));
    }
    buf_free(&label);
    buf_free(&who);
    buf_free(&what);
    buf_free(&use.idle);
    credential_report_free(&report);
    identity_release(&id);
    return rc;
}

/* ---------------------------------------------------------------- DDB-05 */

/* A resource-policy statement that denies every DynamoDB action to everyone over plain HTTP on
 * the table (and its indexes). */
static const struct policy_statement *transport_deny(const struct policy_document *doc,
                                                     const char *table_arn)
{
    if (!doc || doc->error)
        return NULL;
    char index[600];
    snprintf(index, sizeof(index), "%s/index/#probe", table_arn);
    for (size_t s = 0; s < doc->statement_count; s++) {
        const struct policy_statement *st = &doc->statements[s];
        if (st->effect != POLICY_DENY || !st->all_dynamodb ||
            !policy_condition_denies_plaintext(st->condition) || st->not_resource ||
            st->not_principal)
            continue;
        int everyone = 0;
        for (size_t k = 0; k < st->principal_count; k++)
            everyone |= st->principals[k].kind == POLICY_PRINCIPAL_AWS &&
                        !strcmp(st->principals[k].value, "*");
        int table = 0;
        for (size_t r = 0; r < st->resource_count; r++)
            table |= policy_arn_matches(st->resources[r], table_arn);
        if (everyone && table)
            return st;
    }
    return NULL;
}

struct transport_state {
    struct identity *id;
    size_t *uncovered_everywhere; /* principals whose all-tables cell lacks a TLS deny */
    size_t uncovered_count;
    /* per table: principals with their own cell, as (table, principal) sorted by table */
    struct {
        size_t table, principal;
    } * cells;
    size_t cell_count;
    unsigned char *everywhere; /* per principal: in uncovered_everywhere */
    size_t covered_count;      /* principals whose all-tables cell has a TLS deny */
    const struct policy_principal *covered_example;
    const struct policy_grant *covered_grant;
};

static _Thread_local struct transport_state *transport_current;

static int plaintext_table_actions(const struct policy_cell *cell)
{
    struct policy_action_set plain = table_actions(cell->plaintext);
    return !policy_action_set_empty(&plain);
}

static int cell_has_table_access(const struct policy_cell *cell)
{
    struct policy_action_set any = table_actions(set_or(cell->allowed, cell->conditional));
    return !policy_action_set_empty(&any);
}

static int cell_order(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int visit_transport(struct check_context *ctx, const struct table_ref *table)
{
    struct transport_state *ts = transport_current;
    struct identity *id = ts->id;
    const struct evidence_call *policy =
        check_require(ctx, table->arn, table->region, "dynamodb", "GetResourcePolicy", table->name);
    if (!policy)
        return 0;
    size_t t = table_index(id, table->arn);
    if (t == (size_t)-1)
        return 0;
    struct buf label;
    buf_init(&label, 4096);
    const struct policy_table *pt = &id->analysis->tables[t];
    if (pt->resource_policy && pt->resource_policy->error) {
        struct finding *f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                                               "the table's resource policy cannot be read: %s",
                                               pt->resource_policy->error);
        cite_statement(ctx, f, pt->resource_policy, NULL);
        buf_free(&label);
        return 0;
    }
    const struct policy_statement *deny = transport_deny(pt->resource_policy, table->arn);
    if (deny) {
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_PASS,
            "the table's resource policy denies every DynamoDB action to every principal when "
            "aws:SecureTransport is false (%s)",
            statement_label(&label, pt->resource_policy, deny));
        cite_statement(ctx, f, pt->resource_policy, deny);
        buf_free(&label);
        return 0;
    }
    /* Principals that reach the table without a transport deny: those uncovered on every table,
     * corrected by their own cells for this table, plus those with only a cell here. */
    struct buf names;
    buf_init(&names, 1 << 16);
    size_t uncovered = ts->uncovered_count, reaching = ts->covered_count, lo = 0,
           hi = ts->cell_count, shown = 0;
    while (lo < hi) { /* first cell of this table */
        size_t mid = (lo + hi) / 2;
        if (ts->cells[mid].table < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t first = lo, last = lo;
    while (last < ts->cell_count && ts->cells[last].table == t)
        last++;
    const struct policy_grant *cited = ts->covered_grant;
    const struct policy_principal *cited_principal = ts->covered_example;
    for (size_t c = first; c < last; c++) {
        size_t index = ts->cells[c].principal;
        const struct policy_principal *p = &id->analysis->principals[index];
        const struct policy_cell *cell = policy_cell_for(p, t);
        int reaches = cell_has_table_access(cell);
        int plain = reaches && plaintext_table_actions(cell);
        if (ts->everywhere[index]) {
            uncovered -= !plain;
            continue;
        }
        reaching += reaches;
        if (plain) {
            uncovered++;
            if (shown++ < LIST_LIMIT)
                buf_printf(&names, "%s%s", buf_cstr(&names)[0] ? ", " : "", p->arn);
        } else if (reaches && !cited) {
            struct policy_action_set none = {{0, 0}};
            cited = granting(p, cell, none);
            cited_principal = cited ? p : NULL;
        }
    }
    for (size_t i = 0; i < ts->uncovered_count && shown < LIST_LIMIT; i++) {
        const struct policy_principal *p = &id->analysis->principals[ts->uncovered_everywhere[i]];
        const struct policy_cell *cell = policy_cell_for(p, t);
        if (cell_has_table_access(cell) && plaintext_table_actions(cell)) {
            buf_printf(&names, "%s%s", buf_cstr(&names)[0] ? ", " : "", p->arn);
            shown++;
        }
    }
    if (uncovered > shown)
        buf_printf(&names, " and %zu more", uncovered - shown);
    if (uncovered) {
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_REMEDIATE,
            "%zu principal%s can call DynamoDB on this table without a policy that denies "
            "requests when aws:SecureTransport is false, and the table's resource policy has no "
            "such deny: %s",
            uncovered, uncovered == 1 ? "" : "s", buf_cstr(&names));
        check_cite(ctx, f, policy, policy->outcome == EVIDENCE_OK ? "/Policy" : NULL);
    } else {
        struct finding *f;
        if (reaching) {
            f = result_add_finding(
                ctx->result, table->arn, STATUS_PASS,
                "every principal that can reach this table has a Deny on "
                "aws:SecureTransport = false in its identity policies%s%s",
                cited ? ", e.g. " : "",
                cited ? statement_label(&label, cited->document, cited->statement) : "");
            if (cited) {
                cite_statement(ctx, f, cited->document, cited->statement);
                cite_principal(ctx, f, id, cited_principal);
            }
        } else {
            f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                                   "no principal's identity or resource policy reaches this "
                                   "table, so none can use it over plain HTTP");
            check_cite(ctx, f, table->list_tables, NULL);
        }
        check_cite(ctx, f, policy, policy->outcome == EVIDENCE_OK ? "/Policy" : NULL);
        char pointer[64];
        snprintf(pointer, sizeof(pointer), "/TableNames/%zu", table->list_index);
        check_cite(ctx, f, table->list_tables, pointer);
    }
    buf_free(&names);
    buf_free(&label);
    return 0;
}

int check_transport_encryption(struct check_context *ctx)
{
    struct identity id;
    int rc = activity_check_transport(ctx);
    if (rc < 0)
        return rc;
    rc = identity_load(ctx, &id);
    if (rc <= 0)
        return rc;
    struct transport_state ts = {&id, NULL, 0, NULL, 0, NULL, 0, NULL, NULL};
    size_t principals = id.analysis->principal_count, cells = 0;
    for (size_t i = 0; i < principals; i++)
        cells += id.analysis->principals[i].cell_count;
    ts.uncovered_everywhere = principals ? calloc(principals, sizeof(size_t)) : NULL;
    ts.everywhere = principals ? calloc(principals, 1) : NULL;
    ts.cells = cells ? calloc(cells, sizeof(*ts.cells)) : NULL;
    if ((principals && (!ts.uncovered_everywhere || !ts.everywhere)) || (cells && !ts.cells)) {
        rc = DDB_ERUNTIME;
        goto done;
    }
    for (size_t i = 0; i < principals; i++) {
        const struct policy_principal *p = &id.analysis->principals[i];
        if (cell_has_table_access(&p->all) && plaintext_table_actions(&p->all)) {
            ts.uncovered_everywhere[ts.uncovered_count++] = i;
            ts.everywhere[i] = 1;
        } else if (cell_has_table_access(&p->all)) {
            struct policy_action_set none = {{0, 0}};
            ts.covered_count++;
            if (!ts.covered_grant && (ts.covered_grant = granting(p, &p->all, none)))
                ts.covered_example = p;
        }
        for (size_t c = 0; c < p->cell_count; c++) {
            ts.cells[ts.cell_count].table = p->cells[c].table;
            ts.cells[ts.cell_count++].principal = i;
        }
    }
    if (ts.cell_count)
        qsort(ts.cells, ts.cell_count, sizeof(*ts.cells), cell_order);
    if (!ctx->activity && !ctx->activity_absent)
        result_add_note(ctx->result, "CloudTrail activity is not part of this evaluation; the "
                                     "decision rests on policies only");
    transport_current = &ts;
    current = &id;
    rc = check_each_table(ctx, visit_transport);
    current = NULL;
    transport_current = NULL;
done:
    free(ts.uncovered_everywhere);
    free(ts.everywhere);
    free(ts.cells);
    identity_release(&id);
    return rc;
}

/* ---------------------------------------------------------------- DDB-11 */

static int account_trusted(const struct check_context *ctx, const char *account)
{
    if (!strcmp(account, ctx->evidence->account))
        return 1;
    json_t *trusted = check_param(ctx, "trusted_accounts");
    size_t i;
    json_t *item;
    json_array_foreach(trusted, i, item)
    {
        char text[32];
        if (json_is_string(item))
            snprintf(text, sizeof(text), "%s", json_string_value(item));
        else if (json_is_integer(item))
            snprintf(text, sizeof(text), "%012lld", (long long)json_integer_value(item));
        else
            continue;
        if (!strcmp(text, account))
            return 1;
    }
    return 0;
}

/* The account of a principal value: a 12-digit id or the 5th field of an ARN. */
static int account_of(const char *value, char *out, size_t size)
{
    size_t n = strlen(value);
    if (n == 12 && strspn(value, "0123456789") == 12) {
        snprintf(out, size, "%s", value);
        return 1;
    }
    if (strncmp(value, "arn:", 4))
        return 0;
    const char *p = value;
    for (int i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (!p)
        return 0;
    size_t len = strcspn(p, ":");
    if (!len || len >= size)
        return 0;
    snprintf(out, size, "%.*s", (int)len, p);
    return 1;
}

enum confinement {
    CONFINED_NONE,     /* nothing confines the callers */
    CONFINED_NETWORK,  /* aws:SourceVpce / aws:SourceVpc */
    CONFINED_ACCOUNTS, /* account conditions naming only this account or trusted ones */
    CONFINED_UNKNOWN,  /* an org or other condition the check cannot evaluate */
    CONFINED_OUTSIDE,  /* an account condition naming an untrusted account */
};

/* What a statement's conditions confine a "*" principal to. Only positive operators count:
 * StringNotEquals on aws:SourceVpce confines nothing. */
static enum confinement statement_confinement(const struct check_context *ctx,
                                              const struct policy_statement *st)
{
    enum confinement best = CONFINED_NONE;
    const char *operator;
    json_t *block;
    if (!st->condition)
        return CONFINED_NONE;
    json_object_foreach(st->condition, operator, block)
    {
        if (strstr(operator, "Not") || !strncmp(operator, "Null", 4) ||
            strstr(operator, "IfExists"))
            continue;
        const char *key;
        json_t *values;
        json_object_foreach(block, key, values)
        {
            json_t *kind_probe = json_pack("{s:{s:O}}", operator, key, values);
            unsigned kind = policy_condition_classify(kind_probe);
            json_decref(kind_probe);
            if (kind & (POLICY_COND_SOURCE_VPCE | POLICY_COND_SOURCE_VPC)) {
                if (best == CONFINED_NONE || best == CONFINED_UNKNOWN)
                    best = CONFINED_NETWORK;
            } else if (kind & POLICY_COND_PRINCIPAL_ACCOUNT) {
                int all_trusted = 1;
                size_t i;
                json_t *value;
                json_t *list = json_is_array(values) ? values : NULL;
                size_t n = list ? json_array_size(list) : 1;
                for (i = 0; i < n; i++) {
                    value = list ? json_array_get(list, i) : values;
                    char account[32];
                    if (!json_is_string(value) ||
                        !account_of(json_string_value(value), account, sizeof(account)) ||
                        strchr(account, '*') || !account_trusted(ctx, account))
                        all_trusted = 0;
                }
                if (!all_trusted)
                    return CONFINED_OUTSIDE;
                best = CONFINED_ACCOUNTS;
            } else if (kind & POLICY_COND_PRINCIPAL_ORG) {
                if (best == CONFINED_NONE)
                    best = CONFINED_UNKNOWN;
            }
        }
    }
    return best;
}

/* Judges one resource policy; adds at most one finding for the resource. */
static void judge_resource_policy(struct check_context *ctx, const char *resource,
                                  const struct policy_document *doc,
                                  const struct evidence_call *call, const char *what)
{
    struct buf reasons, label;
    buf_init(&reasons, 1 << 16);
    buf_init(&label, 4096);
    enum status status = STATUS_PASS;
    int pinned = 0;
    const struct policy_statement *worst = NULL;
    if (doc->error) {
        struct finding *f =
            result_add_finding(ctx->result, resource, STATUS_REVIEW,
                               "the %s resource policy cannot be read: %s", what, doc->error);
        check_cite(ctx, f, call, "/Policy");
        goto done;
    }
    for (size_t s = 0; s < doc->statement_count; s++) {
        const struct policy_statement *st = &doc->statements[s];
        if (st->effect != POLICY_ALLOW || policy_action_set_empty(&st->dynamodb_actions))
            continue;
        enum confinement confined = statement_confinement(ctx, st);
        pinned |= confined == CONFINED_NETWORK;
        for (size_t k = 0; k < st->principal_count || (st->not_principal && k == 0); k++) {
            const char *value = st->not_principal ? "*" : st->principals[k].value;
            enum policy_principal_kind kind =
                st->not_principal ? POLICY_PRINCIPAL_AWS : st->principals[k].kind;
            enum status verdict = STATUS_PASS;
            const char *why = NULL;
            char account[32];
            if (kind == POLICY_PRINCIPAL_SERVICE) {
                continue; /* AWS services act for this account (see DDB-03 for their actions) */
            } else if (kind != POLICY_PRINCIPAL_AWS) {
                verdict = STATUS_REVIEW;
                why = "a federated or canonical principal";
            } else if (!strcmp(value, "*")) {
                switch (confined) {
                case CONFINED_NETWORK:
                case CONFINED_ACCOUNTS:
                    break;
                case CONFINED_UNKNOWN:
                    verdict = STATUS_REVIEW;
                    why = "every principal, narrowed only by an organization condition the "
                          "check cannot evaluate";
                    break;
                case CONFINED_OUTSIDE:
                    verdict = STATUS_REMEDIATE;
                    why = "every principal of an account outside trusted_accounts";
                    break;
                case CONFINED_NONE:
                default:
                    verdict = STATUS_REMEDIATE;
                    why = st->condition_kinds & POLICY_COND_SOURCE_IP
                              ? "every principal (public), narrowed only by source IP"
                              : "every principal (public)";
                    break;
                }
            } else if (!account_of(value, account, sizeof(account))) {
                verdict = STATUS_REVIEW;
                why = "a principal whose account cannot be read";
            } else if (!account_trusted(ctx, account) && confined != CONFINED_NETWORK) {
                verdict = STATUS_REMEDIATE;
                why = "a principal of another account not in trusted_accounts";
            }
            if (st->not_principal)
                k = st->principal_count; /* "everyone but these" is judged once */
            if (verdict == STATUS_PASS)
                continue;
            buf_printf(&reasons, "%s%s grants %s (%s)", buf_cstr(&reasons)[0] ? "; " : "",
                       statement_label(&label, doc, st), why, value);
            if (status_worst(status, verdict) != status || !worst) {
                status = status_worst(status, verdict);
                worst = st;
            }
        }
    }
    struct finding *f;
    if (status == STATUS_PASS)
        f = result_add_finding(
            ctx->result, resource, STATUS_PASS,
            "the %s resource policy grants only to this account%s%s", what,
            json_array_size(check_param(ctx, "trusted_accounts")) ? " and trusted_accounts" : "",
            pinned ? "; access is pinned to a VPC or VPC endpoint "
                     "(aws:SourceVpce/aws:SourceVpc)"
                   : "; no aws:SourceVpce or aws:SourceVpc condition pins it "
                     "to a network");
    else
        f = result_add_finding(ctx->result, resource, status, "the %s resource policy: %s", what,
                               buf_cstr(&reasons));
    if (worst)
        cite_statement(ctx, f, doc, worst);
    else
        check_cite(ctx, f, call, "/Policy");
done:
    buf_free(&reasons);
    buf_free(&label);
}

static int visit_isolation(struct check_context *ctx, const struct table_ref *table)
{
    struct identity *id = current;
    const struct evidence_call *policy =
        check_require(ctx, table->arn, table->region, "dynamodb", "GetResourcePolicy", table->name);
    if (!policy)
        return 0;
    size_t t = table_index(id, table->arn);
    const struct policy_table *pt = t == (size_t)-1 ? NULL : &id->analysis->tables[t];
    if (policy->outcome == EVIDENCE_NOT_FOUND || !pt || !pt->resource_policy) {
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_PASS,
            "the table has no resource policy: only principals of this account that are granted "
            "access by their identity policies can reach it");
        check_cite(ctx, f, policy, NULL);
    } else {
        judge_resource_policy(ctx, table->arn, pt->resource_policy, policy, "table's");
    }
    /* The stream's policy, when the collector looked for one. */
    char key[512], stream_arn[600];
    snprintf(key, sizeof(key), "%s@stream", table->name);
    snprintf(stream_arn, sizeof(stream_arn), "%s/stream", table->arn);
    if (!evidence_find(ctx->evidence, table->region, "dynamodb", "GetResourcePolicy", key))
        return 0;
    const struct evidence_call *stream =
        check_require(ctx, stream_arn, table->region, "dynamodb", "GetResourcePolicy", key);
    if (stream && stream->outcome == EVIDENCE_OK && pt && pt->stream_policy)
        judge_resource_policy(ctx, stream_arn, pt->stream_policy, stream, "stream's");
    return 0;
}

int check_resource_policy_isolation(struct check_context *ctx)
{
    struct identity id;
    struct diagnostics d;
    json_t *notes = json_array();
    int rc = activity_check_network(ctx);
    if (rc < 0) {
        json_decref(notes);
        return rc;
    }
    /* Resource policies do not need the IAM details: analyse tables only. */
    memset(&id, 0, sizeof(id));
    check_account_scope(ctx, id.scope, sizeof(id.scope));
    diag_init(&d);
    rc = notes ? policy_input_from_snapshot(&id.input, ctx->evidence, notes, &d) : DDB_ERUNTIME;
    id.input.authorization_details = NULL; /* principals come from the resource policies */
    if (rc == 0)
        rc = policy_analyze(&id.analysis, &id.input, &d);
    if (rc == 0) {
        size_t n = id.analysis->table_count;
        id.by_arn = n ? malloc(n * sizeof(*id.by_arn)) : NULL;
        for (size_t t = 0; id.by_arn && t < n; t++)
            id.by_arn[t] = (struct table_slot){id.analysis->tables[t].arn, t};
        if (id.by_arn)
            qsort(id.by_arn, n, sizeof(*id.by_arn), slot_order);
        else if (n)
            rc = DDB_ERUNTIME;
    }
    if (rc == 0) {
        current = &id;
        rc = check_each_table(ctx, visit_isolation);
        current = NULL;
    }
    json_decref(notes);
    diag_free(&d);
    policy_analysis_free(id.analysis);
    policy_input_release(&id.input);
    free(id.by_arn);
    return rc;
}

/* ---------------------------------------------------------------- DDB-12 */

/* An Allow of every DynamoDB action on every resource to every principal, unconditionally: the
 * default endpoint policy or its equivalent. */
static const struct policy_statement *full_access(const struct policy_document *doc)
{
    for (size_t s = 0; s < doc->statement_count; s++) {
        const struct policy_statement *st = &doc->statements[s];
        if (st->effect != POLICY_ALLOW || !st->all_dynamodb || st->condition)
            continue;
        int everyone = st->not_principal || !st->has_principal;
        for (size_t k = 0; k < st->principal_count; k++)
            everyone |= !strcmp(st->principals[k].value, "*");
        int everywhere = st->not_resource;
        for (size_t r = 0; r < st->resource_count; r++)
            everywhere |= !strcmp(st->resources[r], "*") ||
                          policy_arn_matches(st->resources[r], "arn:aws:dynamodb:#:#:table/#");
        if (everyone && everywhere)
            return st;
    }
    return NULL;
}

int check_vpc_endpoint_policy(struct check_context *ctx)
{
    struct buf label;
    buf_init(&label, 4096);
    for (size_t r = 0; r < ctx->evidence->region_count; r++) {
        const char *region = ctx->evidence->regions[r];
        char scope[256], suffix[128];
        check_region_scope(ctx, region, scope, sizeof(scope));
        const struct evidence_call *call =
            check_require(ctx, scope, region, "ec2", "DescribeVpcEndpoints", NULL);
        if (!call)
            continue;
        snprintf(suffix, sizeof(suffix), ".%s.dynamodb", region);
        size_t i, found = 0;
        json_t *endpoint;
        json_array_foreach(json_object_get(call->document, "VpcEndpoints"), i, endpoint)
        {
            const char *service = json_string_value(json_object_get(endpoint, "ServiceName"));
            const char *id = json_string_value(json_object_get(endpoint, "VpcEndpointId"));
            size_t n = service ? strlen(service) : 0, m = strlen(suffix);
            if (!id || n < m || strcmp(service + n - m, suffix))
                continue;
            found++;
            char resource[512], pointer[96];
            snprintf(resource, sizeof(resource), "arn:%s:ec2:%s:%s:vpc-endpoint/%s",
                     ctx->evidence->partition, region, ctx->evidence->account, id);
            snprintf(pointer, sizeof(pointer), "/VpcEndpoints/%zu/PolicyDocument", i);
            json_t *text = json_object_get(endpoint, "PolicyDocument");
            if (!text) {
                struct finding *f = result_add_finding(
                    ctx->result, resource, STATUS_REMEDIATE,
                    "endpoint %s has no policy document, which means the default full access", id);
                char entry[64];
                snprintf(entry, sizeof(entry), "/VpcEndpoints/%zu/VpcEndpointId", i);
                check_cite(ctx, f, call, entry);
                continue;
            }
            struct policy_document *doc =
                policy_document_parse(text, id, POLICY_SOURCE_ENDPOINT, call, pointer);
            if (!doc)
                return DDB_ERUNTIME;
            const struct policy_statement *open = doc->error ? NULL : full_access(doc);
            struct finding *f;
            if (doc->error)
                f = result_add_finding(ctx->result, resource, STATUS_REVIEW,
                                       "endpoint %s's policy cannot be read: %s", id, doc->error);
            else if (open)
                f = result_add_finding(
                    ctx->result, resource, STATUS_REMEDIATE,
                    "endpoint %s's policy is the default full-access one (%s allows every action "
                    "on every resource to every principal); limit it to the tables and actions "
                    "the VPC needs",
                    id, statement_label(&label, doc, open));
            else {
                int conditional_only = 1, any_allow = 0;
                for (size_t s = 0; s < doc->statement_count; s++)
                    if (doc->statements[s].effect == POLICY_ALLOW) {
                        any_allow = 1;
                        conditional_only &=
                            doc->statements[s].condition != NULL && doc->statements[s].all_dynamodb;
                    }
                if (any_allow && conditional_only)
                    f = result_add_finding(ctx->result, resource, STATUS_REVIEW,
                                           "endpoint %s's policy allows every DynamoDB action, "
                                           "narrowed only by conditions the check cannot evaluate",
                                           id);
                else
                    f = result_add_finding(ctx->result, resource, STATUS_PASS,
                                           "endpoint %s's policy is restricted (no unconditional "
                                           "Allow of every action on every resource)",
                                           id);
            }
            check_cite(ctx, f, call, pointer);
            policy_document_free(doc);
        }
        if (!found) {
            struct finding *f = result_add_finding(
                ctx->result, scope, STATUS_NOT_APPLICABLE,
                "no DynamoDB VPC endpoint in %s (DDB-08 covers whether one is needed)", region);
            check_cite(ctx, f, call, "/VpcEndpoints");
        }
    }
    buf_free(&label);
    return 0;
}

/* ---------------------------------------------------------------- DDB-14 */

static int allowlisted(const struct check_context *ctx, const char *arn, const char **pattern)
{
    size_t i;
    json_t *item;
    json_array_foreach(check_param(ctx, "admin_allowlist"), i, item)
    {
        if (json_is_string(item) && policy_arn_matches(json_string_value(item), arn)) {
            *pattern = json_string_value(item);
            return 1;
        }
    }
    return 0;
}

int check_admin_access(struct check_context *ctx)
{
    struct identity id;
    int rc = identity_load(ctx, &id);
    if (rc <= 0)
        return rc;
    struct policy_action_set privileged = policy_privileged_set();
    int have_allowlist = json_array_size(check_param(ctx, "admin_allowlist")) > 0;
    struct buf acts, where, label;
    buf_init(&acts, 1 << 14);
    buf_init(&where, 1 << 16);
    buf_init(&label, 4096);
    size_t admins = 0;
    for (size_t i = 0; i < id.analysis->principal_count; i++) {
        const struct policy_principal *p = &id.analysis->principals[i];
        struct policy_action_set held = set_and(p->any, privileged);
        if (policy_action_set_empty(&held))
            continue;
        admins++;
        buf_reset(&acts);
        actions_text(&acts, held);
        buf_reset(&where);
        struct policy_action_set everywhere =
            set_and(set_or(p->all.allowed, p->all.conditional), privileged);
        const struct policy_cell *source = &p->all;
        if (!policy_action_set_empty(&everywhere)) {
            buf_puts(&where, "every table");
        } else {
            size_t count = 0;
            for (size_t c = 0; c < p->cell_count; c++) {
                struct policy_action_set here =
                    set_and(set_or(p->cells[c].allowed, p->cells[c].conditional), privileged);
                if (policy_action_set_empty(&here))
                    continue;
                if (!count)
                    source = &p->cells[c];
                const struct policy_table *table = &id.analysis->tables[p->cells[c].table];
                char label_text[400];
                snprintf(label_text, sizeof(label_text), "%s (%s)", table->name, table->region);
                list_add(&where, &count, label_text);
            }
            list_finish(&where, count);
        }
        const struct policy_grant *grant = granting(p, source, privileged);
        const char *pattern = NULL;
        enum status status;
        const char *verdict;
        if (strstr(p->arn, ":role/aws-service-role/")) {
            status = STATUS_PASS;
            verdict = "a service-linked role, managed by AWS";
        } else if (!have_allowlist) {
            status = STATUS_REVIEW;
            verdict = "admin_allowlist is empty: approve it by adding a pattern, or remove the "
                      "grant";
        } else if (allowlisted(ctx, p->arn, &pattern)) {
            status = STATUS_PASS;
            verdict = "it matches admin_allowlist";
        } else {
            status = STATUS_REMEDIATE;
            verdict = "it matches no admin_allowlist pattern";
        }
        struct finding *f = result_add_finding(
            ctx->result, p->arn, status, "%s may %s on %s%s%s; %s%s%s%s", p->name, buf_cstr(&acts),
            buf_cstr(&where), grant ? " through " : "",
            grant ? statement_label(&label, grant->document, grant->statement) : "", verdict,
            pattern ? " (" : "", pattern ? pattern : "", pattern ? ")" : "");
        if (grant)
            cite_statement(ctx, f, grant->document, grant->statement);
        cite_principal(ctx, f, &id, p);
    }
    size_t unreadable =
        review_unanalysable(ctx, &id, "administrative grants in it would not be seen");
    long unseen = review_unseen_resource_policies(
        ctx, &id, "administrative grants in it to this or another account would not be seen");
    if (!admins && !unreadable && unseen == 0) {
        struct finding *f = result_add_finding(
            ctx->result, id.scope, STATUS_PASS,
            "no principal may DeleteTable, UpdateTable, DeleteBackup, RestoreTable*, "
            "PutResourcePolicy, DeleteResourcePolicy or UpdateContinuousBackups");
        check_cite_value(
            ctx, f, id.details, "/RoleDetailList",
            json_pack("{s:I}", "principals_examined", (json_int_t)id.analysis->principal_count));
    }
    buf_free(&acts);
    buf_free(&where);
    buf_free(&label);
    identity_release(&id);
    return unseen < 0 ? (int)unseen : 0;
}

/* ---------------------------------------------------------------- DDB-15 */

/* Whether a role's trust policy admits federated callers: a Federated principal, or
 * sts:AssumeRoleWithSAML/WithWebIdentity. */
static const struct policy_statement *federated_trust(const struct policy_document *trust)
{
    if (!trust || trust->error)
        return NULL;
    for (size_t s = 0; s < trust->statement_count; s++) {
        const struct policy_statement *st = &trust->statements[s];
        if (st->effect != POLICY_ALLOW)
            continue;
        for (size_t k = 0; k < st->principal_count; k++)
            if (st->principals[k].kind == POLICY_PRINCIPAL_FEDERATED)
                return st;
        for (size_t a = 0; a < st->action_count; a++)
            if (!st->not_action &&
                (policy_action_matches(st->actions[a], "sts:AssumeRoleWithSAML") ||
                 policy_action_matches(st->actions[a], "sts:AssumeRoleWithWebIdentity")))
                return st;
    }
    return NULL;
}

int check_federated_identities(struct check_context *ctx)
{
    struct identity id;
    struct credential_report report = {0};
    int rc = identity_load(ctx, &id);
    if (rc <= 0)
        return rc;
    const struct evidence_call *saml =
        check_require(ctx, id.scope, "global", "iam", "ListSAMLProviders", NULL);
    const struct evidence_call *oidc =
        check_require(ctx, id.scope, "global", "iam", "ListOpenIDConnectProviders", NULL);
    const struct evidence_call *credentials =
        check_require(ctx, id.scope, "global", "iam", "GetCredentialReport", NULL);
    int have_report = credentials && credentials->outcome == EVIDENCE_OK &&
                      credential_report_load(&report, credentials) == 0;
    if (credentials && !have_report) {
        struct finding *f = result_add_finding(ctx->result, id.scope, STATUS_REVIEW,
                                               "the credential report cannot be read, so console "
                                               "passwords cannot be checked");
        check_cite(ctx, f, credentials, "/Content");
    }
    struct buf text, roles_text;
    buf_init(&text, 1 << 14);
    buf_init(&roles_text, 1 << 16);
    size_t console_users = 0, federated_roles = 0, federated_with_access = 0, sso_roles = 0;
    for (size_t i = 0; i < id.analysis->principal_count; i++) {
        const struct policy_principal *p = &id.analysis->principals[i];
        if (p->type == POLICY_PRINCIPAL_ROLE) {
            int sso = strstr(p->arn, ":role/aws-reserved/sso.amazonaws.com/") != NULL;
            if (sso || federated_trust(p->trust)) {
                federated_roles++;
                sso_roles += sso;
                if (has_table_access(p))
                    list_add(&roles_text, &federated_with_access, p->name);
            }
            continue;
        }
        if (p->type != POLICY_PRINCIPAL_USER || !has_table_access(p) || !have_report)
            continue;
        long row = credential_row(&report, "arn", p->arn);
        if (row < 0 || strcmp(credential_field(&report, (size_t)row, "password_enabled"), "true"))
            continue;
        console_users++;
        buf_reset(&text);
        groups_text(&text, table_actions(p->any));
        struct finding *f = result_add_finding(
            ctx->result, p->arn, STATUS_REMEDIATE,
            "IAM user %s signs in to the console with a password (MFA %s) and has %s access to "
            "DynamoDB; people should reach DynamoDB through federation (SAML, OIDC or IAM "
            "Identity Center) instead",
            p->name,
            strcmp(credential_field(&report, (size_t)row, "mfa_active"), "true") ? "off" : "on",
            buf_cstr(&text));
        cite_principal(ctx, f, &id, p);
        cite_credential_row(ctx, f, &report, (size_t)row);
    }
    list_finish(&roles_text, federated_with_access);
    size_t saml_count =
        saml ? json_array_size(json_object_get(saml->document, "SAMLProviderList")) : 0;
    size_t oidc_count =
        oidc ? json_array_size(json_object_get(oidc->document, "OpenIDConnectProviderList")) : 0;
    if (saml && oidc) {
        struct finding *f;
        if (saml_count + oidc_count == 0)
            f = result_add_finding(
                ctx->result, id.scope, STATUS_REVIEW,
                "no SAML or OIDC identity provider in this account%s; people may federate through "
                "another account of the organization, which the auditor confirms",
                sso_roles ? " (yet IAM Identity Center roles exist)" : "");
        else
            f = result_add_finding(
                ctx->result, id.scope, STATUS_PASS,
                "%zu SAML and %zu OIDC provider%s; %zu role%s trusted for federation (%zu IAM "
                "Identity Center), %zu with DynamoDB access%s%s",
                saml_count, oidc_count, oidc_count == 1 ? "" : "s", federated_roles,
                federated_roles == 1 ? "" : "s", sso_roles, federated_with_access,
                federated_with_access ? ": " : "", buf_cstr(&roles_text));
        check_cite(ctx, f, saml, "/SAMLProviderList");
        check_cite(ctx, f, oidc, "/OpenIDConnectProviderList");
        if (have_report)
            check_cite_value(ctx, f, credentials, "/Content",
                             json_pack("{s:I}", "users_with_console_password_and_dynamodb_access",
                                       (json_int_t)console_users));
    }
    review_unanalysable(ctx, &id, "its DynamoDB access cannot be fully determined");
    long unseen = review_unseen_resource_policies(
        ctx, &id, "IAM users it grants DynamoDB access to would not be seen");
    buf_free(&text);
    buf_free(&roles_text);
    credential_report_free(&report);
    identity_release(&id);
    return unseen < 0 ? (int)unseen : 0;
}

/* The audit packet: output/<snapshot>/ holding every rendered format, report.json, a copy of the
 * evidence manifest, and packet.json listing each file with its SHA-256 (docs/report-format.md,
 * "The packet"). Written atomically, verified by `ddbaudit verify`. Also the ticket excerpt,
 * which cites the packet it comes from. */
#ifndef DDBAUDIT_PACKET_H
#define DDBAUDIT_PACKET_H

#include <jansson.h>
#include <stddef.h>

struct buf;
struct diagnostics;

#define PACKET_FORMAT "ddbaudit-packet"
#define PACKET_FORMAT_VERSION 1
#define PACKET_INDEX "packet.json"
#define PACKET_REPORT "report.json"
#define PACKET_MANIFEST "manifest.json"
#define PACKET_MAX_FILE ((size_t)1 << 30) /* largest packet file verify reads whole */

/* The formats a packet holds by default, as `--format` takes them. */
#define PACKET_DEFAULT_FORMATS "html,md,xml,json,confluence"

/* The bytes of report.json: json_dumps(report, JSON_INDENT(2)) and a newline. Key order is the
 * report's own (results.c inserts keys in a fixed order), so the same report gives the same
 * bytes. *out is malloc'd; the caller frees it. */
int packet_report_bytes(char **out, size_t *len, const json_t *report, struct diagnostics *d);

/* Writes the packet for `report` to packet_dir (NULL = output/<inputs.snapshot>) and sets
 * *out_path (may be NULL) to that directory (caller frees).
 *   formats        comma list of html, md, xml, json, confluence (NULL = all); report.json,
 *                  manifest.json and packet.json are always written
 *   manifest_path  the evidence snapshot's manifest.json, copied in; its SHA-256 must be the
 *                  report's inputs.evidence_manifest_sha256. NULL = no copy (tests only).
 *   templates_dir  the user's --templates directory, or NULL for the bundled templates
 * Everything is written into <packet_dir>.tmp.<pid> and renamed into place only once complete;
 * an older packet in packet_dir is swapped out in one rename (renameat2 RENAME_EXCHANGE, with
 * a two-rename fallback) and then removed. On error the old packet is untouched and the
 * temporary directory removed. `report` is not modified. */
int packet_write(char **out_path, const char *packet_dir, json_t *report, const char *manifest_path,
                 const char *formats, const char *templates_dir, struct diagnostics *d);

/* The ticket excerpt for `ddbaudit report --control ID [--resource ARN] --format ticket-…`:
 * the control, its status, its findings (only `resource`'s when given), the evidence behind
 * them with hashes, any current risk acceptance with its expiry, and the packet it comes from.
 *   format      "ticket-md", "ticket-jira" or "ticket-html"
 *   packet_dir  where the packet for this report is (NULL = output/<snapshot>): it is cited,
 *               with packet.json's SHA-256, only if its report.json is this report's; the
 *               excerpt always gives the report's own SHA-256
 * Appends to `out`. DDB_EUSAGE for an unknown control, resource or format. */
int packet_ticket(struct buf *out, json_t *report, const char *control_id, const char *resource,
                  const char *format, const char *packet_dir, const char *templates_dir,
                  struct diagnostics *d);

/* What `ddbaudit verify` checked, for its summary line. */
struct packet_verify_result {
    size_t files;                /* files listed in packet.json whose hash was recomputed */
    size_t evidence_refs;        /* evidence references in report.json checked */
    size_t evidence_files;       /* distinct snapshot (or template) files among them */
    char *evidence_dir;          /* the snapshot used (caller frees), or NULL */
    int from_templates;          /* the packet was made by `report --template` */
    int manifest_checked;        /* templates: the evidence manifest digest was recomputed */
    size_t cloudtrail_files;     /* delivered CloudTrail log files hashed under --cloudtrail-dir */
    size_t cloudtrail_unchecked; /* delivered log files the report names, no --cloudtrail-dir */
};

/* What to verify a packet against. A packet made from templates (`report --template`) has no
 * snapshot: its evidence is the template files, which are read where the report cites them
 * (paths relative to the current directory, as `report` was given them), or, when `templates`
 * is set, exactly those files; `manifest_sha256` is then what cfn_evidence_manifest_sha256
 * computed from them and the parameters, compared with the report's evidence manifest. */
struct packet_verify_options {
    const char *evidence_dir; /* snapshot packets: see packet_verify; NULL = look for it */
    const char *const *templates;
    size_t template_count;
    const char *manifest_sha256; /* NULL unless templates are given */
    /* --cloudtrail-dir values, as given to `report`: where the delivered CloudTrail log files
     * (evidence and activity.sources entries with origin "cloudtrail_dir") are. None = those
     * files are not checked, only counted (result->cloudtrail_unchecked). */
    const char *const *cloudtrail_dirs;
    size_t cloudtrail_dir_count;
};

/* Verifies the packet in `dir`: every file in packet.json has its SHA-256 and size, no file is
 * missing or unlisted, manifest.json is the evidence manifest packet.json names, report.json has
 * the shape of docs/schema/report.schema.json (checked in C: report_schema_check), report.xml
 * is valid against docs/schema/report.xsd, report.confluence.xml is well-formed, and every
 * evidence reference in the report resolves to a file of the evidence snapshot with the same
 * SHA-256. The snapshot is `evidence_dir`, or evidence/<inputs.snapshot> under the current
 * directory, or under the packet's grandparent (output/<snapshot>/../../evidence/<snapshot>).
 * Delivered CloudTrail log files are not in the snapshot: see packet_verify_from. Every problem is
 * one diagnostic naming its file; the result is DDB_EINPUT if there was any. */
int packet_verify(struct packet_verify_result *result, const char *dir, const char *evidence_dir,
                  struct diagnostics *d);

/* packet_verify with template packets too. A packet is a template packet when templates are
 * given, or when packet.json lists no manifest.json and the report's snapshot is named
 * "template-…" (cfn_evidence_build's name). For it, instead of the snapshot: every template
 * file the report cites (as evidence or as a location) must exist with the SHA-256 the report
 * records for it, a located file must have a recorded SHA-256 unless it is among the given
 * templates, and with templates given every cited file must be one of them and the manifest
 * digests must agree. Giving --evidence for a template packet is DDB_EUSAGE.
 * A delivered CloudTrail log file (origin "cloudtrail_dir", cited by a finding or listed in
 * activity.sources: a file read but not cited still shaped the counts) is looked for under the
 * parent of each options->cloudtrail_dirs entry (activity_sources_log_path) and must exist with
 * the SHA-256 the report records; each file is hashed once and reported once. Without
 * cloudtrail_dirs such files are counted in result->cloudtrail_unchecked and not checked.
 * cloudtrail_dirs for a template packet is DDB_EUSAGE (templates have no activity). */
int packet_verify_from(struct packet_verify_result *result, const char *dir,
                       const struct packet_verify_options *options, struct diagnostics *d);
void packet_verify_result_free(struct packet_verify_result *result);

#endif

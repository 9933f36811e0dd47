/* Verifies CloudTrail digest files and the log files they cover, offline, over a local copy of
 * the trail's bucket. It reads files and checks signatures; it never fetches keys or objects
 * (the collector does) and never decides a control's status. */
#include "cloudtrail_digest.h"
#include "buf.h"
#include "cloudtrail.h"
#include "diag.h"
#include "digest.h"
#include "fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define DIGEST_MAX ((size_t)64 << 20) /* a digest lists at most a few thousand files */
#define KEYS_MAX ((size_t)4 << 20)
#define SIGNATURE_MAX 4096 /* hex characters: RSA-8192 at most */

/* --- public keys -------------------------------------------------------------------------- */

void cloudtrail_keyring_free(struct cloudtrail_keyring *ring)
{
    for (size_t i = 0; i < ring->count; i++) {
        free(ring->keys[i].fingerprint);
        EVP_PKEY_free(ring->keys[i].key);
    }
    free(ring->keys);
    ring->keys = NULL;
    ring->count = 0;
}

/* Decodes base64 (whitespace ignored). Returns the length, or -1. Caller frees *out. */
static long base64_decode(unsigned char **out, const char *text)
{
    size_t len = strlen(text), n = 0;
    char *clean = malloc(len + 1);
    unsigned char *bytes = malloc(len / 4 * 3 + 3);
    long result = -1;
    if (!clean || !bytes)
        goto done;
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)text[i]))
            clean[n++] = text[i];
    if (n == 0 || n % 4 != 0)
        goto done;
    int decoded = EVP_DecodeBlock(bytes, (const unsigned char *)clean, (int)n);
    if (decoded < 0)
        goto done;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (clean[n - 1] == '=')
        decoded--;
    if (clean[n - 2] == '=')
        decoded--;
    *out = bytes;
    bytes = NULL;
    result = decoded;
done:
    free(clean);
    free(bytes);
    return result;
}

/* ListPublicKeys gives PKCS#1 RSAPublicKey DER; SubjectPublicKeyInfo is accepted too. */
static EVP_PKEY *decode_public_key(const unsigned char *der, long len)
{
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
    if (key)
        return key;
    p = der;
    return d2i_PUBKEY(NULL, &p, len);
}

int cloudtrail_keyring_parse(struct cloudtrail_keyring *ring, const char *text, size_t len,
                             const char *name, struct diagnostics *d)
{
    int error = 0;
    json_error_t json_error;
    json_t *root = json_loadb(text, len, 0, &json_error);
    if (!root)
        return diag_error_at(d, DDB_EINPUT, name, json_error.line, json_error.column, 1,
                             "not valid JSON: %s", json_error.text);
    json_t *list = json_object_get(root, "PublicKeyList");
    if (!json_is_array(list)) {
        error = diag_error_at(d, DDB_EINPUT, name, 0, 0, 0,
                              "no PublicKeyList array (expected `aws cloudtrail "
                              "list-public-keys` output)");
        goto done;
    }
    size_t n = json_array_size(list);
    ring->keys = calloc(n ? n : 1, sizeof(*ring->keys));
    if (!ring->keys) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        const char *value = json_string_value(json_object_get(item, "Value"));
        const char *fingerprint = json_string_value(json_object_get(item, "Fingerprint"));
        unsigned char *der = NULL;
        long der_len = value ? base64_decode(&der, value) : -1;
        EVP_PKEY *key = der_len > 0 ? decode_public_key(der, der_len) : NULL;
        free(der);
        if (!key || !fingerprint) {
            EVP_PKEY_free(key);
            error = diag_error_at(d, DDB_EINPUT, name, 0, 0, 0, "PublicKeyList[%zu]: %s", i,
                                  fingerprint ? "Value is not a base64 DER RSA public key"
                                              : "no Fingerprint");
            goto done;
        }
        ring->keys[ring->count].key = key;
        ring->keys[ring->count].fingerprint = strdup(fingerprint);
        ring->count++;
    }
done:
    json_decref(root);
    if (error < 0)
        cloudtrail_keyring_free(ring);
    return error;
}

int cloudtrail_keyring_load(struct cloudtrail_keyring *ring, const char *path,
                            struct diagnostics *d)
{
    char *text = NULL;
    size_t len = 0;
    int error = fs_read_file(&text, &len, path, KEYS_MAX, d);
    if (error == 0)
        error = cloudtrail_keyring_parse(ring, text, len, path, d);
    free(text);
    return error;
}

static EVP_PKEY *find_key(const struct cloudtrail_keyring *ring, const char *fingerprint)
{
    for (size_t i = 0; ring && fingerprint && i < ring->count; i++)
        if (strcasecmp(ring->keys[i].fingerprint, fingerprint) == 0)
            return ring->keys[i].key;
    return NULL;
}

/* --- digest files ------------------------------------------------------------------------- */

struct digest_file {
    char *path;
    json_t *json;
    char sha256[DIGEST_SHA256_HEX_LEN + 1]; /* of the uncompressed content */
    const char *s3_object;
    const char *start_time;
    const char *end_time;
    const char *previous_object;
    const char *previous_hash;
    const char *previous_signature;
    char *signature; /* hex; owned; NULL = unknown */
    int signature_from_sidecar;
    const char *signature_status;
    const char *chain_status;
    json_t *problems;
};

struct log_file {
    char *path;
    const char *name; /* basename, inside path */
    int covered;
};

struct file_lists {
    struct digest_file *digests;
    size_t digest_count;
    struct log_file *logs;
    size_t log_count;
};

char *cloudtrail_digest_string_to_sign(json_t *digest, const char *content_sha256_hex)
{
    /* aws-cli and the Java validator both write "null" for the first digest of a chain. */
    const char *previous = json_string_value(json_object_get(digest, "previousDigestSignature"));
    const char *end = json_string_value(json_object_get(digest, "digestEndTime"));
    const char *bucket = json_string_value(json_object_get(digest, "digestS3Bucket"));
    const char *object = json_string_value(json_object_get(digest, "digestS3Object"));
    if (!end || !bucket || !object)
        return NULL;
    struct buf text;
    buf_init(&text, 0);
    if (buf_printf(&text, "%s\n%s/%s\n%s\n%s", end, bucket, object, content_sha256_hex,
                   previous ? previous : "null") < 0) {
        buf_free(&text);
        return NULL;
    }
    return buf_detach(&text);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t len = strlen(s), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

static int collect(struct file_lists *lists, const char *dir, struct diagnostics *d)
{
    DIR *handle = opendir(dir);
    if (!handle) {
        diag_warning_at(d, dir, 0, 0, 0, "cannot list directory: %s", strerror(errno));
        return 0;
    }
    int error = 0;
    struct dirent *entry;
    while ((entry = readdir(handle)) && error == 0) {
        if (entry->d_name[0] == '.')
            continue;
        char *path = fs_join(dir, entry->d_name);
        struct stat st;
        if (!path) {
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            break;
        }
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            error = collect(lists, path, d);
            free(path);
            continue;
        }
        const char *name = entry->d_name;
        int is_json = has_suffix(name, ".json") || has_suffix(name, ".json.gz");
        if (is_json && strstr(name, "_CloudTrail-Digest_")) {
            struct digest_file *grown =
                realloc(lists->digests, (lists->digest_count + 1) * sizeof(*grown));
            if (!grown) {
                free(path);
                error = diag_error(d, DDB_ERUNTIME, "out of memory");
                break;
            }
            lists->digests = grown;
            memset(&grown[lists->digest_count], 0, sizeof(*grown));
            grown[lists->digest_count++].path = path;
        } else if (is_json) {
            struct log_file *grown = realloc(lists->logs, (lists->log_count + 1) * sizeof(*grown));
            if (!grown) {
                free(path);
                error = diag_error(d, DDB_ERUNTIME, "out of memory");
                break;
            }
            lists->logs = grown;
            grown[lists->log_count].path = path;
            grown[lists->log_count].name = strrchr(path, '/') + 1;
            grown[lists->log_count].covered = 0;
            lists->log_count++;
        } else
            free(path);
    }
    closedir(handle);
    return error;
}

static void problem(struct digest_file *digest, const char *text)
{
    json_array_append_new(digest->problems, json_string(text));
}

/* Reads, hashes and parses one digest file; a bad one is kept with signature "invalid". */
static int load_digest(struct digest_file *digest, struct diagnostics *d)
{
    digest->problems = json_array();
    digest->signature_status = "unavailable";
    digest->chain_status = "ok";
    char *content = NULL;
    size_t len = 0;
    struct diagnostics local;
    diag_init(&local);
    if (cloudtrail_read_content(&content, &len, digest->path, DIGEST_MAX, &local) < 0) {
        diag_warning_at(d, digest->path, 0, 0, 0, "%s", diag_first_message(&local));
        diag_free(&local);
        digest->signature_status = "invalid";
        problem(digest, "digest file cannot be read");
        return 0;
    }
    diag_free(&local);
    digest_sha256_hex(content, len, digest->sha256);
    json_error_t json_error;
    digest->json = json_loadb(content, len, 0, &json_error);
    free(content);
    if (!json_is_object(digest->json)) {
        diag_warning_at(d, digest->path, json_error.line, json_error.column, 1,
                        "digest file is not a JSON object: %s", json_error.text);
        digest->signature_status = "invalid";
        problem(digest, "digest file is not valid JSON");
        return 0;
    }
    json_t *json = digest->json;
    digest->s3_object = json_string_value(json_object_get(json, "digestS3Object"));
    digest->start_time = json_string_value(json_object_get(json, "digestStartTime"));
    digest->end_time = json_string_value(json_object_get(json, "digestEndTime"));
    digest->previous_object = json_string_value(json_object_get(json, "previousDigestS3Object"));
    digest->previous_hash = json_string_value(json_object_get(json, "previousDigestHashValue"));
    digest->previous_signature =
        json_string_value(json_object_get(json, "previousDigestSignature"));
    /* The sidecar holds S3's x-amz-meta-signature for this object. */
    struct buf sidecar;
    buf_init(&sidecar, 0);
    if (buf_printf(&sidecar, "%s.sig", digest->path) == 0 && fs_exists(sidecar.data)) {
        char *text = NULL;
        size_t text_len = 0;
        if (fs_read_file(&text, &text_len, sidecar.data, SIGNATURE_MAX, d) == 0) {
            while (text_len > 0 && isspace((unsigned char)text[text_len - 1]))
                text[--text_len] = '\0';
            digest->signature = text;
            digest->signature_from_sidecar = 1;
        }
    }
    buf_free(&sidecar);
    return 0;
}

static int hex_decode(unsigned char *out, size_t max, const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        char pair[3] = {hex[2 * i], hex[2 * i + 1], 0};
        if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1]) ||
            sscanf(pair, "%2x", &byte) != 1)
            return -1;
        out[i] = (unsigned char)byte;
    }
    *len = n / 2;
    return 0;
}

static void verify_signature(struct digest_file *digest, const struct cloudtrail_keyring *ring)
{
    if (!digest->json || !digest->signature)
        return; /* "invalid" or "unavailable" already */
    const char *algorithm =
        json_string_value(json_object_get(digest->json, "digestSignatureAlgorithm"));
    if (algorithm && strcmp(algorithm, "SHA256withRSA") != 0) {
        digest->signature_status = "invalid";
        problem(digest, "unsupported digestSignatureAlgorithm");
        return;
    }
    EVP_PKEY *key = find_key(
        ring, json_string_value(json_object_get(digest->json, "digestPublicKeyFingerprint")));
    if (!key) {
        digest->signature_status = "unknown_key";
        problem(digest, "no public key with the digest's fingerprint");
        return;
    }
    unsigned char signature[SIGNATURE_MAX / 2];
    size_t signature_len = 0;
    char *text = cloudtrail_digest_string_to_sign(digest->json, digest->sha256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = text && ctx &&
             hex_decode(signature, sizeof(signature), digest->signature, &signature_len) == 0 &&
             EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, signature, signature_len, (const unsigned char *)text,
                              strlen(text)) == 1;
    EVP_MD_CTX_free(ctx);
    free(text);
    digest->signature_status = ok ? "valid" : "invalid";
    if (!ok)
        problem(digest, "signature does not verify");
}

static int compare_digests(const void *a, const void *b)
{
    const struct digest_file *x = a, *y = b;
    const char *p = x->end_time ? x->end_time : "", *q = y->end_time ? y->end_time : "";
    int c = strcmp(p, q);
    return c ? c : strcmp(x->path, y->path);
}

static int compare_logs(const void *a, const void *b)
{
    const struct log_file *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->path, y->path);
}

static struct digest_file *find_digest(struct file_lists *lists, const char *s3_object)
{
    for (size_t i = 0; s3_object && i < lists->digest_count; i++)
        if (lists->digests[i].s3_object && strcmp(lists->digests[i].s3_object, s3_object) == 0)
            return &lists->digests[i];
    return NULL;
}

static struct log_file *find_log(struct file_lists *lists, const char *s3_object)
{
    const char *slash = strrchr(s3_object, '/');
    struct log_file key = {.name = slash ? slash + 1 : s3_object, .path = ""};
    /* Any local copy with the object's file name; CloudTrail names are unique per trail. */
    size_t lo = 0, hi = lists->log_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(lists->logs[mid].name, key.name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < lists->log_count && strcmp(lists->logs[lo].name, key.name) == 0 ? &lists->logs[lo]
                                                                                : NULL;
}

/* Whether [start, end] (timestamps, compared on their date) touches the period. */
static int in_period(const char *start, const char *end, const char *period_start,
                     const char *period_end)
{
    if (period_end && start && strncmp(start, period_end, 10) > 0)
        return 0;
    if (period_start && end && strncmp(end, period_start, 10) < 0)
        return 0;
    return 1;
}

/* Log file names carry their delivery stamp: ..._CloudTrail_<region>_YYYYMMDDTHHMMZ_x.json.gz */
static int log_in_period(const char *name, const char *period_start, const char *period_end)
{
    const char *stamp = strstr(name, "_CloudTrail_");
    stamp = stamp ? strchr(stamp + 12, '_') : NULL;
    if (!stamp || strlen(stamp) < 10)
        return 1;
    char date[11] = {stamp[1], stamp[2], stamp[3], stamp[4], '-', stamp[5],
                     stamp[6], '-',      stamp[7], stamp[8], 0};
    return in_period(date, date, period_start, period_end);
}

static void check_chain(struct file_lists *lists, size_t index)
{
    struct digest_file *digest = &lists->digests[index];
    if (!digest->json)
        return;
    if (!digest->previous_object) {
        digest->chain_status = "start";
        return;
    }
    struct digest_file *previous = find_digest(lists, digest->previous_object);
    if (!previous) {
        /* The oldest local digest may simply start the copy; a gap after it may not. */
        if (index == 0)
            digest->chain_status = "start";
        else {
            digest->chain_status = "broken";
            problem(digest, "previous digest file is missing");
        }
        return;
    }
    if (!digest->previous_hash || strcmp(previous->sha256, digest->previous_hash) != 0) {
        digest->chain_status = "broken";
        problem(digest, "previousDigestHashValue does not match the previous digest file");
    }
    if (previous->signature && previous->signature_from_sidecar &&
        (!digest->previous_signature ||
         strcasecmp(previous->signature, digest->previous_signature) != 0)) {
        digest->chain_status = "broken";
        problem(digest, "previousDigestSignature does not match the previous digest's signature");
    }
}

int cloudtrail_validate(json_t **out, const char *const *roots, size_t root_count,
                        const struct cloudtrail_keyring *ring, const char *period_start,
                        const char *period_end, struct diagnostics *d)
{
    struct file_lists lists = {0};
    int error = 0;
    json_t *result = NULL, *digests = NULL, *logs = NULL;
    json_int_t counts[8] = {0};
    enum { VALID, MISSING, CHANGED, NOT_COVERED, DIGESTS, DIGESTS_VALID, UNREADABLE, UNTRUSTED };
    for (size_t i = 0; i < root_count && error == 0; i++) {
        if (fs_is_dir(roots[i]))
            error = collect(&lists, roots[i], d);
    }
    if (error < 0)
        goto done;
    for (size_t i = 0; i < lists.digest_count; i++)
        load_digest(&lists.digests[i], d);
    if (lists.digest_count) /* qsort wants a non-NULL base even for nothing */
        qsort(lists.digests, lists.digest_count, sizeof(*lists.digests), compare_digests);
    if (lists.log_count)
        qsort(lists.logs, lists.log_count, sizeof(*lists.logs), compare_logs);
    /* A digest without a .sig inherits the signature its successor vouches for. */
    for (size_t i = 0; i < lists.digest_count; i++) {
        struct digest_file *next = &lists.digests[i];
        struct digest_file *previous = find_digest(&lists, next->previous_object);
        if (previous && !previous->signature && next->previous_signature)
            previous->signature = strdup(next->previous_signature);
    }
    for (size_t i = 0; i < lists.digest_count; i++) {
        verify_signature(&lists.digests[i], ring);
        check_chain(&lists, i);
    }
    digests = json_array();
    logs = json_array();
    if (!digests || !logs) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < lists.digest_count; i++) {
        struct digest_file *digest = &lists.digests[i];
        json_t *files = json_object_get(digest->json, "logFiles");
        /* Listed log files count as covered even outside the period. */
        for (size_t k = 0; k < json_array_size(files); k++) {
            const char *object =
                json_string_value(json_object_get(json_array_get(files, k), "s3Object"));
            struct log_file *log = object ? find_log(&lists, object) : NULL;
            if (log)
                log->covered = 1;
        }
        if (!in_period(digest->start_time, digest->end_time, period_start, period_end))
            continue;
        counts[DIGESTS]++;
        int trusted = strcmp(digest->signature_status, "valid") == 0 &&
                      strcmp(digest->chain_status, "broken") != 0;
        counts[DIGESTS_VALID] += trusted;
        json_array_append_new(
            digests, json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:b, s:O}", "file", digest->path,
                               "s3_object", digest->s3_object, "start_time", digest->start_time,
                               "end_time", digest->end_time, "signature", digest->signature_status,
                               "chain", digest->chain_status, "signature_from_sidecar",
                               digest->signature_from_sidecar, "problems", digest->problems));
        for (size_t k = 0; k < json_array_size(files); k++) {
            json_t *item = json_array_get(files, k);
            const char *object = json_string_value(json_object_get(item, "s3Object"));
            const char *expected = json_string_value(json_object_get(item, "hashValue"));
            if (!object)
                continue;
            struct log_file *log = find_log(&lists, object);
            const char *status = "missing";
            if (log) {
                char actual[DIGEST_SHA256_HEX_LEN + 1];
                struct diagnostics local;
                diag_init(&local);
                if (cloudtrail_content_sha256(actual, log->path, &local) < 0) {
                    status = "changed"; /* a damaged gzip is a change to the delivered file */
                    counts[UNREADABLE]++;
                } else
                    status = expected && strcasecmp(actual, expected) == 0 ? "valid" : "changed";
                diag_free(&local);
            }
            counts[strcmp(status, "valid") == 0     ? VALID
                   : strcmp(status, "missing") == 0 ? MISSING
                                                    : CHANGED]++;
            counts[UNTRUSTED] += !trusted;
            json_array_append_new(logs,
                                  json_pack("{s:s, s:s?, s:s, s:s, s:b}", "s3_object", object,
                                            "file", log ? log->path : NULL, "status", status,
                                            "digest", digest->s3_object ? digest->s3_object : "",
                                            "digest_trusted", trusted));
        }
    }
    for (size_t i = 0; i < lists.log_count; i++) {
        struct log_file *log = &lists.logs[i];
        if (log->covered || !log_in_period(log->name, period_start, period_end))
            continue;
        counts[NOT_COVERED]++;
        json_array_append_new(logs,
                              json_pack("{s:n, s:s, s:s, s:n, s:b}", "s3_object", "file", log->path,
                                        "status", "not_covered", "digest", "digest_trusted", 0));
    }
    result = json_pack("{s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "digests", digests,
                       "log_files", logs, "summary", "digests", counts[DIGESTS], "digests_valid",
                       counts[DIGESTS_VALID], "log_files_valid", counts[VALID], "missing",
                       counts[MISSING], "changed", counts[CHANGED], "not_covered",
                       counts[NOT_COVERED], "in_untrusted_digests", counts[UNTRUSTED]);
    digests = logs = NULL;
    if (!result)
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
    *out = result;
done:
    json_decref(digests);
    json_decref(logs);
    for (size_t i = 0; i < lists.digest_count; i++) {
        free(lists.digests[i].path);
        free(lists.digests[i].signature);
        json_decref(lists.digests[i].json);
        json_decref(lists.digests[i].problems);
    }
    free(lists.digests);
    for (size_t i = 0; i < lists.log_count; i++)
        free(lists.logs[i].path);
    free(lists.logs);
    return error;
}

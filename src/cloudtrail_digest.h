/* CloudTrail log file integrity, as `aws cloudtrail validate-logs` checks it, over a local copy
 * of a trail's bucket: each digest file's SHA256withRSA signature (with the keys ListPublicKeys
 * returns), the chain of previousDigestSignature / previousDigestHashValue, and the SHA-256 of
 * every log file a digest lists. Reports each log file as valid, missing, changed or not covered.
 *
 * Where signatures come from: S3 keeps a digest's signature in object metadata
 * (x-amz-meta-signature), which a plain copy loses. A digest's signature is read from
 * "<digest file>.sig" (the hex metadata value) when present, else from the next digest's
 * previousDigestSignature; the newest digest needs its .sig to anchor the chain.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html
 */
#ifndef DDBAUDIT_CLOUDTRAIL_DIGEST_H
#define DDBAUDIT_CLOUDTRAIL_DIGEST_H

#include <jansson.h>
#include <stddef.h>

struct diagnostics;

struct cloudtrail_public_key {
    char *fingerprint; /* hex, as digestPublicKeyFingerprint names it */
    void *key;         /* EVP_PKEY *, owned */
};

struct cloudtrail_keyring {
    struct cloudtrail_public_key *keys;
    size_t count;
};

/* Loads `aws cloudtrail list-public-keys` output: {"PublicKeyList":[{"Value": base64 DER
 * PKCS#1 RSAPublicKey, "Fingerprint": hex, ...}]}. DDB_EINPUT (with file position) on a bad
 * file or key. The ring owns everything; free with cloudtrail_keyring_free. */
int cloudtrail_keyring_load(struct cloudtrail_keyring *ring, const char *path,
                            struct diagnostics *d);
int cloudtrail_keyring_parse(struct cloudtrail_keyring *ring, const char *text, size_t len,
                             const char *name, struct diagnostics *d);
void cloudtrail_keyring_free(struct cloudtrail_keyring *ring);

/* Validates the digest files found under `roots` (names containing "_CloudTrail-Digest_") and
 * the log files beside them (every other *.json / *.json.gz). `period_start`/`period_end`
 * ("YYYY-MM-DD", may be NULL) restrict which digests and log files count. *out receives:
 *   {"digests":[{file, s3_object, start_time, end_time, signature, chain, problems[]}],
 *    "log_files":[{s3_object, file, status, digest}],
 *    "summary":{digests, digests_valid, log_files_valid, missing, changed, not_covered, ...}}
 * with signature in valid|invalid|unavailable|unknown_key, chain in ok|start|broken, status in
 * valid|missing|changed|not_covered. Returns 0 (whatever the verdicts) or DDB_ERUNTIME. */
int cloudtrail_validate(json_t **out, const char *const *roots, size_t root_count,
                        const struct cloudtrail_keyring *ring, const char *period_start,
                        const char *period_end, struct diagnostics *d);

/* The text CloudTrail signs for a digest: end time, "bucket/key", hex SHA-256 of the
 * uncompressed digest, previous signature (or "null"), joined by newlines. Caller frees. */
char *cloudtrail_digest_string_to_sign(json_t *digest, const char *content_sha256_hex);

#endif

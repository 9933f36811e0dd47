/* Percent-decoding, as the AWS wire formats need it: URL-encoded policy documents inside IAM's
 * XML answers and CloudTrail events, and S3 keys listed with encoding-type=url. One decoder, with
 * the few rules on which those callers differ as flags. */
#ifndef DDBAUDIT_URLDECODE_H
#define DDBAUDIT_URLDECODE_H

#include <stddef.h>

enum {
    URLDECODE_PLUS = 1,   /* '+' is a space (form encoding, Python's unquote_plus) */
    URLDECODE_STRICT = 2, /* a '%' not followed by two hex digits is an error, not kept as is */
};

/* Decodes text[0..len) into a fresh NUL-terminated string (*out_len, if given, is its length).
 * Returns NULL when the result would hold a NUL byte (a decoded value must not be cut short
 * where C would stop reading it), on a malformed escape with URLDECODE_STRICT, or out of
 * memory. */
char *url_decode(const char *text, size_t len, unsigned flags, size_t *out_len);

#endif

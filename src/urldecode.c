/* Percent-decoding for the AWS wire formats (urldecode.h). No I/O, no allocation beyond the
 * result. */
#include "urldecode.h"

#include <stdlib.h>

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *url_decode(const char *text, size_t len, unsigned flags, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '%') {
            int hi = i + 1 < len ? hex_digit((unsigned char)text[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit((unsigned char)text[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            } else if (flags & URLDECODE_STRICT) {
                free(out);
                return NULL;
            }
        } else if (c == '+' && (flags & URLDECODE_PLUS)) {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}

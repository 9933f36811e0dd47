/* A growable byte buffer with a hard cap (after curl's dynbuf): hostile input can make it fail,
 * never grow without bound. The buffer owns `data`; it is always NUL-terminated when non-NULL. */
#ifndef DDBAUDIT_BUF_H
#define DDBAUDIT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_DEFAULT_MAX ((size_t)1 << 30) /* 1 GiB: larger than any report we write */

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* keeps the allocation, len = 0 */

/* Each returns 0, or -1 when the cap would be exceeded or memory runs out (the buffer is then
 * left as it was). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Hands the string to the caller (who frees it) and resets the buffer. Never NULL on success. */
char *buf_detach(struct buf *b);
const char *buf_cstr(const struct buf *b); /* "" when empty */

#endif

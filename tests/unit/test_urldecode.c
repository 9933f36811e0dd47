/* The one percent-decoder: the flags on which its callers differ, and hostile escapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "urldecode.h"

static void expect(const char *text, unsigned flags, const char *want)
{
    size_t len = 0;
    char *got = url_decode(text, strlen(text), flags, &len);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

static void escapes_and_plus(void **state)
{
    (void)state;
    expect("%7B%22a%22%3a1%7d", 0, "{\"a\":1}");
    expect("a+b%20c", 0, "a+b c");
    expect("a+b%20c", URLDECODE_PLUS, "a b c");
    expect("%2B", URLDECODE_PLUS, "+"); /* an escaped plus stays a plus */
    expect("caf%C3%A9", 0, "caf\xc3\xa9");
    expect("", URLDECODE_STRICT, "");
}

static void malformed_escapes(void **state)
{
    (void)state;
    /* Lenient: kept as written, as Python's unquote does. */
    expect("100%", 0, "100%");
    expect("%4", 0, "%4");
    expect("%zz%41", 0, "%zzA");
    /* Strict: refused. */
    expect("100%", URLDECODE_STRICT, NULL);
    expect("%4", URLDECODE_STRICT, NULL);
    expect("%zz", URLDECODE_STRICT, NULL);
    expect("%4G", URLDECODE_STRICT | URLDECODE_PLUS, NULL);
}

static void nul_is_refused(void **state)
{
    (void)state;
    /* A decoded NUL would let C code stop reading a policy before its real end. */
    expect("a%00b", 0, NULL);
    expect("a%00b", URLDECODE_PLUS, NULL);
    const char raw[] = {'a', '\0', 'b'};
    assert_null(url_decode(raw, sizeof(raw), 0, NULL));
    /* Only len bytes are read: no terminator needed. */
    char *got = url_decode("%41%42tail", 6, URLDECODE_STRICT, NULL);
    assert_string_equal(got, "AB");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_and_plus),
        cmocka_unit_test(malformed_escapes),
        cmocka_unit_test(nul_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

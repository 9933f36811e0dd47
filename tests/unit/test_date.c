/* Calendar days and audit periods: real dates only, open ends only where asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "date.h"

static void days_round_trip(void **state)
{
    (void)state;
    long days;
    char text[11];
    assert_int_equal(date_parse("1970-01-01", &days), 0);
    assert_int_equal(days, 0);
    assert_int_equal(date_parse("2024-02-29", &days), 0);
    date_format(days + 1, text);
    assert_string_equal(text, "2024-03-01");
    assert_int_equal(date_parse("2026-02-29", &days), -1);
    assert_int_equal(date_parse("2026-04-31", &days), -1);
    assert_int_equal(date_parse("2026-13-01", &days), -1);
    assert_int_equal(date_parse("2026-1-01", &days), -1);
    assert_int_equal(date_parse("2026-01-01T", &days), -1);
}

static void periods(void **state)
{
    (void)state;
    char start[11], end[11];
    assert_int_equal(date_parse_period("2026-07-01..2026-09-30", 0, start, end), 0);
    assert_string_equal(start, "2026-07-01");
    assert_string_equal(end, "2026-09-30");
    assert_int_equal(date_parse_period("2026-07-01..2026-07-01", 0, start, end), 0);
    assert_int_equal(date_parse_period("2026-09-30..2026-07-01", 0, start, end), -2);
    assert_int_equal(date_parse_period("2026-07-01..2026-02-30", 0, start, end), -1);
    assert_int_equal(date_parse_period("2026-07-01...2026-09-30", 0, start, end), -1);
    assert_int_equal(date_parse_period("2026-07-01-2026-09-30", 0, start, end), -1);
    assert_int_equal(date_parse_period("2026-07-01..", 0, start, end), -1);
    assert_int_equal(date_parse_period("", 0, start, end), -1);
    assert_int_equal(date_parse_period(NULL, 0, start, end), -1);
    /* Open ends only when the caller takes them. */
    assert_int_equal(date_parse_period("2026-07-01..", 1, start, end), 0);
    assert_string_equal(start, "2026-07-01");
    assert_string_equal(end, "");
    assert_int_equal(date_parse_period("..2026-09-30", 1, start, end), 0);
    assert_string_equal(start, "");
    assert_int_equal(date_parse_period("..", 1, start, end), 0);
    assert_int_equal(date_parse_period("2026-07-01..x", 1, start, end), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(days_round_trip),
        cmocka_unit_test(periods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

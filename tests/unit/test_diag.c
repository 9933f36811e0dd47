/* Diagnostics printed to a terminal: positions, excerpts, and hostile text in file names and
 * messages (escape sequences must arrive as visible text, not as terminal commands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* Prints `d` into a fresh string. */
static char *printed(const struct diagnostics *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    diag_print(d, out);
    fclose(out);
    return text;
}

static void position_and_excerpt(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    diag_error_at(&d, DDB_EINPUT, "controls/a.yaml", 2, 5, 3, "unknown key '%s'", "tilte");
    diag_attach_source(&d, "id: DDB-01\ntilte: x\n", 20);
    char *text = printed(&d);
    assert_string_equal(text, "controls/a.yaml:2:5: error: unknown key 'tilte'\n"
                              "   tilte: x\n"
                              "       ^~~\n");
    free(text);
    diag_free(&d);
}

static void control_characters_are_shown_not_obeyed(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    /* OSC 0 (set the window title), CSI "erase line", a carriage return that would let the rest
     * overwrite the start, DEL, and the one-byte C1 CSI in its UTF-8 form. */
    diag_error_at(&d, DDB_EINPUT, "evil\x1b]0;owned\x07.json", 1, 1, 1, "value '%s' is wrong",
                  "a\x1b[2K\rb\x7f\xc2\x9b"
                  "31m");
    diag_attach_source(&d, "{\x1b[31m}", 7);
    char *text = printed(&d);
    for (const char *p = text; *p; p++)
        if (*p != '\n')
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
    assert_null(strstr(text, "\xc2\x9b"));
    assert_non_null(strstr(text, "evil\\x1b]0;owned\\x07.json:1:1: error: "));
    assert_non_null(strstr(text, "'a\\x1b[2K\\x0db\\x7f\\u009b31m'"));
    assert_non_null(strstr(text, "   {?[31m}\n"));
    /* Printable UTF-8 is kept as it is. */
    diag_free(&d);
    diag_init(&d);
    diag_error(&d, DDB_EINPUT, "table '%s'", "caf\xc3\xa9 \xe2\x82\xac");
    free(text);
    text = printed(&d);
    assert_string_equal(text, "error: table 'caf\xc3\xa9 \xe2\x82\xac'\n");
    free(text);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(position_and_excerpt),
        cmocka_unit_test(control_characters_are_shown_not_obeyed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Civil-date arithmetic (Howard Hinnant's days-from-civil algorithm, restated). */
#include "date.h"

#include <stdio.h>
#include <string.h>

static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

void date_format(long z, char out[11])
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    char text[64];
    snprintf(text, sizeof(text), "%04ld-%02u-%02u", y + (m <= 2), m, d);
    memcpy(out, text, 10); /* years outside 0000-9999 never come from date_parse */
    out[10] = '\0';
}

int date_parse(const char *text, long *days)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
            return -1;
    long y =
        (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
    unsigned m = (unsigned)((text[5] - '0') * 10 + (text[6] - '0'));
    unsigned d = (unsigned)((text[8] - '0') * 10 + (text[9] - '0'));
    static const unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > month_days[m - 1])
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

int date_parse_period(const char *text, int open_ends, char start[11], char end[11])
{
    start[0] = end[0] = '\0';
    const char *dots = text ? strstr(text, "..") : NULL;
    if (!dots)
        return -1;
    size_t first = (size_t)(dots - text), second = strlen(dots + 2);
    if ((first != 10 && !(open_ends && first == 0)) ||
        (second != 10 && !(open_ends && second == 0)))
        return -1;
    memcpy(start, text, first);
    start[first] = '\0';
    memcpy(end, dots + 2, second);
    end[second] = '\0';
    long a = 0, b = 0;
    if ((first && date_parse(start, &a) < 0) || (second && date_parse(end, &b) < 0))
        return -1;
    return first && second && a > b ? -2 : 0;
}

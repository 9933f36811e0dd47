/* Calendar dates as day numbers (proleptic Gregorian, days since 1970-01-01), so expiry and
 * staleness are integer comparisons with no time zone and no clock. */
#ifndef DDBAUDIT_DATE_H
#define DDBAUDIT_DATE_H

/* Parses exactly YYYY-MM-DD (a real calendar date). Returns 0 or -1. */
int date_parse(const char *text, long *days);
/* Parses a period "YYYY-MM-DD..YYYY-MM-DD", both days included, into start and end (11 bytes
 * each). With open_ends, either side may be empty for an open end (it is then ""). Returns 0, -1
 * if the text is not a period of real dates, or -2 if the start is after the end. */
int date_parse_period(const char *text, int open_ends, char start[11], char end[11]);
/* Writes YYYY-MM-DD into out (11 bytes). */
void date_format(long days, char out[11]);

#endif

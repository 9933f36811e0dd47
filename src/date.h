/* Calendar dates as day numbers (proleptic Gregorian, days since 1970-01-01), so expiry and
 * staleness are integer comparisons with no time zone and no clock. */
#ifndef DDBAUDIT_DATE_H
#define DDBAUDIT_DATE_H

/* Parses exactly YYYY-MM-DD (a real calendar date). Returns 0 or -1. */
int date_parse(const char *text, long *days);
/* Writes YYYY-MM-DD into out (11 bytes). */
void date_format(long days, char out[11]);

#endif

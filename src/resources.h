/* Where the bundled data lives (controls/, templates/, docs/schema/): $DDBAUDIT_DATA_DIR, then
 * <exe>/../share/ddbaudit, then the source tree the binary was built from. */
#ifndef DDBAUDIT_RESOURCES_H
#define DDBAUDIT_RESOURCES_H

/* A fresh path to `relative` inside the first data directory that has it, or NULL. */
char *resources_path(const char *relative);

#endif

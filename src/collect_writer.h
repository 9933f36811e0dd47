/* Writes the collection's files on a small pool of threads, so the event loop never waits for a
 * disk flush (each atomic write fsyncs: ~6 ms here, which serialised would cap a collection at
 * ~80 calls a second). Manifest entries of written documents come back through
 * collect_writer_drain, on the caller's thread. Private to the collect stage. */
#ifndef DDBAUDIT_COLLECT_WRITER_H
#define DDBAUDIT_COLLECT_WRITER_H

#include <stddef.h>

struct collect_writer;
struct evidence_call;
struct evidence_snapshot;

/* Starts `threads` writer threads. Returns 0 or DDB_ERUNTIME. */
int collect_writer_new(struct collect_writer **out, int threads);

/* Queues an atomic write of data[0..len) (taken; freed by the writer) to `path` (taken),
 * creating its directory; `durable` adds an fsync before the rename. When `entry` is non-NULL
 * (taken: an owned copy made with collect_writer_entry_copy) it is the manifest entry of a
 * document: once the file is written its path (`relative`), sha256 and size are filled in, or its
 * outcome becomes error "WriteFailed", and it waits for collect_writer_drain. Never fails: an
 * allocation failure is recorded like a failed write. */
void collect_writer_submit(struct collect_writer *writer, char *path, char *data, size_t len,
                           int durable, struct evidence_call *entry, char *relative);

/* Adds the entries of finished writes to the snapshot (caller's thread). Returns how many
 * writes failed since the last drain. */
size_t collect_writer_drain(struct collect_writer *writer, struct evidence_snapshot *snapshot);

/* Waits until every queued write is done. */
void collect_writer_wait(struct collect_writer *writer);

/* Waits, stops the threads and frees (undrained entries are dropped). NULL is fine. */
void collect_writer_free(struct collect_writer *writer);

/* An owned deep copy of a manifest entry (NULL on out of memory), and its release. */
struct evidence_call *collect_writer_entry_copy(const struct evidence_call *call);
void collect_writer_entry_free(struct evidence_call *call);

#endif

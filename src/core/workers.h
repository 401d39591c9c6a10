/*
 * workers.h - a small thread pool whose results come back on the loop thread.
 *
 * For work that must not stall the event loop (password hashing). `work`
 * runs on a worker thread and must not touch loop state; `done` runs later on
 * the loop's thread, from an eventfd the loop watches, exactly once per
 * submitted job (also at sp_workers_free, for jobs that never ran, with
 * `cancelled` set). The queue is bounded: SP_ERR_LIMIT when full.
 *
 * Ownership: the pool owns its threads and queues; `arg` stays the caller's.
 */
#ifndef SP_WORKERS_H
#define SP_WORKERS_H

#include <stdbool.h>

#include "core/loop.h"

struct sp_workers;

typedef void sp_work_fn(void *arg);
typedef void sp_done_fn(void *arg, bool cancelled);

int sp_workers_new(struct sp_loop *loop, unsigned threads, unsigned max_queued,
    struct sp_workers **out);
int sp_workers_submit(struct sp_workers *w, sp_work_fn *work, sp_done_fn *done, void *arg);
/* Stop the threads (running jobs finish), then call every pending done. */
void sp_workers_free(struct sp_workers *w);

#endif

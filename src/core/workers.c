/* workers.c - thread pool with results delivered on the loop; see workers.h. */
#include "core/workers.h"
#include "core/err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	struct job *next;
	sp_work_fn *work;
	sp_done_fn *done;
	void *arg;
};

struct sp_workers {
	struct sp_loop *loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *todo_tail;   /* waiting for a thread */
	struct job *finished;           /* waiting for the loop */
	unsigned queued, max_queued;
	bool stop;
	int efd;
	pthread_t *threads;
	unsigned nthreads;
};

static void *
worker_main(void *arg)
{
	struct sp_workers *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct job *j;

		while (w->todo == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		j = w->todo;
		w->todo = j->next;
		if (w->todo == NULL)
			w->todo_tail = NULL;
		pthread_mutex_unlock(&w->mu);
		j->work(j->arg);
		pthread_mutex_lock(&w->mu);
		j->next = w->finished;
		w->finished = j;
		/* A full eventfd counter cannot happen: it only counts wake-ups. */
		(void)!write(w->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Call done for every finished job, oldest first. */
static void
drain(struct sp_workers *w, bool cancelled)
{
	struct job *list, *rev = NULL;
	uint64_t n;

	(void)!read(w->efd, &n, sizeof(n));
	pthread_mutex_lock(&w->mu);
	list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	while (list != NULL) {
		struct job *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		struct job *next = rev->next;
		pthread_mutex_lock(&w->mu);
		w->queued--;
		pthread_mutex_unlock(&w->mu);
		rev->done(rev->arg, cancelled);
		free(rev);
		rev = next;
	}
}

static void
on_event(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	drain(arg, false);
}

int
sp_workers_new(struct sp_loop *loop, unsigned threads, unsigned max_queued,
    struct sp_workers **out)
{
	struct sp_workers *w;
	unsigned i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SP_ERR_NOMEM;
	w->loop = loop;
	w->max_queued = max_queued;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (w->threads = calloc(threads, sizeof(*w->threads))) == NULL ||
	    sp_loop_add(loop, w->efd, SP_EV_READ, on_event, w) != 0) {
		if (w->efd >= 0)
			close(w->efd);
		free(w->threads);
		free(w);
		return SP_ERR_SYSTEM;
	}
	for (i = 0; i < threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			break;
		w->nthreads++;
	}
	if (w->nthreads == 0) {
		sp_workers_free(w);
		return SP_ERR_SYSTEM;
	}
	*out = w;
	return SP_OK;
}

int
sp_workers_submit(struct sp_workers *w, sp_work_fn *work, sp_done_fn *done, void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SP_ERR_NOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	if (w->queued >= w->max_queued || w->stop) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return SP_ERR_LIMIT;
	}
	w->queued++;
	if (w->todo_tail != NULL)
		w->todo_tail->next = j;
	else
		w->todo = j;
	w->todo_tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return SP_OK;
}

void
sp_workers_free(struct sp_workers *w)
{
	struct job *j;
	unsigned i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	drain(w, false);
	/* Jobs that never ran: their owners still get their done call. */
	while ((j = w->todo) != NULL) {
		w->todo = j->next;
		j->done(j->arg, true);
		free(j);
	}
	sp_loop_del(w->loop, w->efd);
	close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}

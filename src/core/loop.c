/* loop.c - epoll event loop, timer heap and deferred work; see loop.h. */
#include "loop.h"
#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct fd_slot {
	sp_io_cb *cb;
	void *arg;
	unsigned events;
	bool used;
};

struct sp_loop {
	int epfd;
	bool stop;
	uint64_t now;
	struct fd_slot *fds;    /* indexed by fd */
	size_t nfds;
	struct sp_timer **heap; /* min-heap on when */
	size_t nheap, capheap;
	struct sp_defer *defer_head, *defer_tail;
	/* The pass run_defers is working through: sp_defer_cancel() must be
	 * able to unlink from it too, or it would cut the pass short. */
	struct sp_defer *run_head;
	/* The mailbox: the only part other threads touch, under mu. */
	pthread_mutex_t mu;
	struct sp_msg *mail_head, *mail_tail;
	int mailfd;             /* eventfd: mail arrived */
};

static __thread struct sp_loop *current;

struct sp_loop *
sp_loop_current(void)
{
	return current;
}

#define MAX_EVENTS 64

static void on_mail(struct sp_loop *l, int fd, unsigned events, void *arg);

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
sp_loop_new(struct sp_loop **out)
{
	struct sp_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SP_ERR_NOMEM;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(l);
		return SP_ERR_SYSTEM;
	}
	l->now = clock_ms();
	pthread_mutex_init(&l->mu, NULL);
	if ((l->mailfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    sp_loop_add(l, l->mailfd, SP_EV_READ, on_mail, NULL) != 0) {
		if (l->mailfd >= 0)
			close(l->mailfd);
		pthread_mutex_destroy(&l->mu);
		close(l->epfd);
		free(l->fds);
		free(l);
		return SP_ERR_SYSTEM;
	}
	*out = l;
	return SP_OK;
}

/* The whole mailbox, taken under the lock; the callbacks run without it. */
static struct sp_msg *
mail_take(struct sp_loop *l)
{
	struct sp_msg *m;

	pthread_mutex_lock(&l->mu);
	m = l->mail_head;
	l->mail_head = l->mail_tail = NULL;
	pthread_mutex_unlock(&l->mu);
	return m;
}

static void
on_mail(struct sp_loop *l, int fd, unsigned events, void *arg)
{
	struct sp_msg *m, *next;
	uint64_t n;

	(void)events;
	(void)arg;
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	for (m = mail_take(l); m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		m->cb(l, m, false);
	}
}

void
sp_loop_post(struct sp_loop *l, struct sp_msg *m)
{
	uint64_t one = 1;
	bool wake;

	m->next = NULL;
	pthread_mutex_lock(&l->mu);
	wake = l->mail_head == NULL;
	if (l->mail_tail != NULL)
		l->mail_tail->next = m;
	else
		l->mail_head = m;
	l->mail_tail = m;
	/* One wake-up per batch: the reader takes the whole list. Written
	 * under the lock, so the loop cannot be freed between the two. */
	if (wake)
		(void)!write(l->mailfd, &one, sizeof(one));
	pthread_mutex_unlock(&l->mu);
}

void
sp_loop_free(struct sp_loop *l)
{
	struct sp_msg *m, *next;

	if (l == NULL)
		return;
	/* Messages nobody will run: their owners get them back. A callback
	 * may post again to this loop (a session that never started reports
	 * its end to the main loop, which is this one with `loops: 1`): those
	 * come back cancelled too, until the box stays empty. */
	while ((m = mail_take(l)) != NULL) {
		for (; m != NULL; m = next) {
			next = m->next;
			m->next = NULL;
			m->cb(l, m, true);
		}
	}
	if (current == l)
		current = NULL;
	sp_loop_del(l, l->mailfd);
	close(l->mailfd);
	pthread_mutex_destroy(&l->mu);
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

uint64_t
sp_loop_now(const struct sp_loop *l)
{
	return l->now;
}

int64_t
sp_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sp_loop_stop(struct sp_loop *l)
{
	l->stop = true;
}

static uint32_t
to_epoll(unsigned ev)
{
	uint32_t e = 0;

	if (ev & SP_EV_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (ev & SP_EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

int
sp_loop_add(struct sp_loop *l, int fd, unsigned events, sp_io_cb *cb, void *arg)
{
	struct epoll_event ee;

	if (fd < 0)
		return SP_ERR_INVALID;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		struct fd_slot *nf;

		while (n <= (size_t)fd)
			n *= 2;
		if ((nf = realloc(l->fds, n * sizeof(*nf))) == NULL)
			return SP_ERR_NOMEM;
		memset(nf + l->nfds, 0, (n - l->nfds) * sizeof(*nf));
		l->fds = nf;
		l->nfds = n;
	}
	if (l->fds[fd].used)
		return SP_ERR_EXISTS;
	memset(&ee, 0, sizeof(ee));
	ee.events = to_epoll(events);
	ee.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) != 0)
		return SP_ERR_SYSTEM;
	l->fds[fd] = (struct fd_slot){ .cb = cb, .arg = arg, .events = events, .used = true };
	return SP_OK;
}

int
sp_loop_set(struct sp_loop *l, int fd, unsigned events)
{
	struct epoll_event ee;

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return SP_ERR_NOT_FOUND;
	if (l->fds[fd].events == events)
		return SP_OK;
	memset(&ee, 0, sizeof(ee));
	ee.events = to_epoll(events);
	ee.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) != 0)
		return SP_ERR_SYSTEM;
	l->fds[fd].events = events;
	return SP_OK;
}

void
sp_loop_del(struct sp_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
}

/* ---- timers: binary min-heap of pointers, slot = index + 1 ---- */

static void
heap_put(struct sp_loop *l, size_t i, struct sp_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct sp_loop *l, size_t i)
{
	struct sp_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->when <= t->when)
			break;
		heap_put(l, i, l->heap[p]);
		i = p;
	}
	heap_put(l, i, t);
}

static void
heap_down(struct sp_loop *l, size_t i)
{
	struct sp_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_put(l, i, l->heap[c]);
		i = c;
	}
	heap_put(l, i, t);
}

void
sp_timer_init(struct sp_timer *t, sp_timer_cb *cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void
sp_timer_stop(struct sp_loop *l, struct sp_timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--l->nheap == i)
		return;
	heap_put(l, i, l->heap[l->nheap]);
	heap_up(l, i);
	heap_down(l, i);
}

int
sp_timer_start(struct sp_loop *l, struct sp_timer *t, uint64_t delay_ms)
{
	sp_timer_stop(l, t);
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 64;
		struct sp_timer **nh = realloc(l->heap, n * sizeof(*nh));

		if (nh == NULL)
			return SP_ERR_NOMEM;
		l->heap = nh;
		l->capheap = n;
	}
	t->when = clock_ms() + delay_ms;
	heap_put(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
	return SP_OK;
}

static void
run_timers(struct sp_loop *l)
{
	/* Bounded by the heap size at entry, so a timer re-armed with 0 ms
	 * from its own callback cannot starve I/O. */
	size_t budget = l->nheap;

	while (budget-- > 0 && l->nheap > 0 && l->heap[0]->when <= l->now) {
		struct sp_timer *t = l->heap[0];

		sp_timer_stop(l, t);
		t->cb(l, t, t->arg);
	}
}

/* ---- deferred work ---- */

void
sp_defer_init(struct sp_defer *d, sp_defer_cb *cb, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->cb = cb;
	d->arg = arg;
}

void
sp_defer_queue(struct sp_loop *l, struct sp_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (l->defer_tail != NULL)
		l->defer_tail->next = d;
	else
		l->defer_head = d;
	l->defer_tail = d;
}

/* Unlink d from the list at *head; true if it was there. */
static bool
unlink_defer(struct sp_defer **head, struct sp_defer **tail, struct sp_defer *d)
{
	struct sp_defer **pp, *prev = NULL;

	for (pp = head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			if (tail != NULL && *tail == d)
				*tail = prev;
			return true;
		}
	}
	return false;
}

void
sp_defer_cancel(struct sp_loop *l, struct sp_defer *d)
{
	if (!d->queued)
		return;
	/* Queued for the next pass, or waiting in the one running now. */
	if (!unlink_defer(&l->defer_head, &l->defer_tail, d))
		(void)unlink_defer(&l->run_head, NULL, d);
	d->queued = false;
	d->next = NULL;
}

static void
run_defers(struct sp_loop *l)
{
	struct sp_defer *d;

	/* Take the current list: work queued by these callbacks runs next
	 * iteration, after I/O had a chance. The pass stays reachable from
	 * the loop so that a callback may cancel a defer still waiting in it. */
	l->run_head = l->defer_head;
	l->defer_head = l->defer_tail = NULL;
	while ((d = l->run_head) != NULL) {
		l->run_head = d->next;
		d->queued = false;
		d->next = NULL;
		d->cb(l, d, d->arg);
	}
}

int
sp_loop_once(struct sp_loop *l, int max_wait_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int timeout = -1, n, i;

	current = l;
	l->now = clock_ms();
	if (l->nheap > 0) {
		uint64_t when = l->heap[0]->when;
		timeout = when <= l->now ? 0 : (int)(when - l->now > 60000 ? 60000 : when - l->now);
	}
	if (l->defer_head != NULL)
		timeout = 0;
	if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
		timeout = max_wait_ms;
	n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout);
	if (n < 0) {
		if (errno == EINTR)
			n = 0;
		else
			return SP_ERR_SYSTEM;
	}
	l->now = clock_ms();
	for (i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		unsigned what = 0;
		struct fd_slot *s;

		/* A callback earlier in this batch may have removed this fd. */
		if ((size_t)fd >= l->nfds || !(s = &l->fds[fd])->used)
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP))
			what |= SP_EV_READ;
		if (ev[i].events & EPOLLOUT)
			what |= SP_EV_WRITE;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			what |= SP_EV_ERROR;
		s->cb(l, fd, what, s->arg);
	}
	run_timers(l);
	run_defers(l);
	return SP_OK;
}

int
sp_loop_run(struct sp_loop *l)
{
	int r;

	l->stop = false;
	while (!l->stop)
		if ((r = sp_loop_once(l, -1)) != 0)
			return r;
	return SP_OK;
}

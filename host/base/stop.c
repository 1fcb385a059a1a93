/* SIGINT / SIGTERM: the stop flag and its watchdog (include/kdbench/stop.h). */
#include "kdbench/stop.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;
/* Posted by the handler (sem_post is async-signal-safe) and by kd_stop_disarm. */
static sem_t wake;
static atomic_int disarmed;
static pthread_t watchdog;
static int watching;
static pthread_mutex_t writing = PTHREAD_MUTEX_INITIALIZER;
static char run_name[4096];

static void on_signal(int sig) {
  if (!stop_signal) {
    stop_signal = sig;
    sem_post(&wake);
  }
}

volatile sig_atomic_t *kd_stop_flag(void) { return &stop_signal; }

/* The run did not stop in time: end it, once no point is half written. */
static void force_stop(void) {
  pthread_mutex_lock(&writing);
  char msg[4400];
  int n = snprintf(msg, sizeof msg,
                   "kdbench: stopped by %s: the point in flight did not stop within %d s and was "
                   "abandoned; the finished points are in %s: run the same command again to "
                   "resume\n",
                   stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", KD_STOP_GRACE_S, run_name);
  if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) {
    /* nothing left to tell it to */
  }
  _exit(128 + stop_signal);
}

static int wait_until(const struct timespec *deadline) {
  int rc;
  while ((rc = deadline ? sem_timedwait(&wake, deadline) : sem_wait(&wake)) != 0 && errno == EINTR) {
  }
  return rc;
}

static void *watch(void *unused) {
  (void)unused;
  wait_until(NULL); /* a signal, or disarmed */
  if (atomic_load(&disarmed)) return NULL;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += KD_STOP_GRACE_S;
  if (wait_until(&deadline) != 0 && !atomic_load(&disarmed)) force_stop();
  return NULL;
}

void kd_stop_arm(const char *run) {
  snprintf(run_name, sizeof run_name, "%s", run);
  stop_signal = 0;
  atomic_store(&disarmed, 0);
  sem_init(&wake, 0, 0);
  /* A small stack: the watchdog must start under a tight address-space limit too. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  watching = pthread_create(&watchdog, &attr, watch, NULL) == 0;
  pthread_attr_destroy(&attr);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
}

void kd_stop_disarm(void) {
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  atomic_store(&disarmed, 1);
  sem_post(&wake);
  if (watching) pthread_join(watchdog, NULL);
  watching = 0;
  sem_destroy(&wake);
}

void kd_stop_hold(void) { pthread_mutex_lock(&writing); }
void kd_stop_unhold(void) { pthread_mutex_unlock(&writing); }

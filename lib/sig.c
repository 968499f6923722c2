#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

/* atomic: a reading thread may ask while the handler writes */
static atomic_int caught;

static void
on_signal(int sig)
{
	caught = sig;
}

void
crm_signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
crm_signal(void)
{
	return caught;
}

void
crm_signal_reraise(void)
{
	int sig = caught;

	signal(sig, SIG_DFL);
	raise(sig);
	exit(128 + sig);
}

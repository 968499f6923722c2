/*
 * The signals that end a writing tool (SIGINT, SIGTERM, SIGHUP) are only
 * noted when they come, so that the tool abandons its transaction at a
 * point of its choosing and nothing half-written lands.
 */
#ifndef CRM_SIG_H
#define CRM_SIG_H

void crm_signals_catch(void);
/* The signal noted, or 0. Any thread may ask. */
int crm_signal(void);
/* Ends the process by the signal noted, as if it had not been caught. */
void crm_signal_reraise(void);

#endif

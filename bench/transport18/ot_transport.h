/* The transportation prototype of bench/transport18 (not part of the
 * package): the declarations it shares with its driver.  Standalone: no R
 * headers. */
#ifndef OT_TRANSPORT_PROTO_H
#define OT_TRANSPORT_PROTO_H
#include <stddef.h>
typedef ptrdiff_t R_xlen_t;
enum { OT_OPTIMAL = 0, OT_RUNNING = 1 };
#define OT_TRANSPORT_GAVE_UP 16 /* the certificate failed */
typedef struct ot_transport ot_transport;
size_t ot_transport_bytes(int n, int m);
int ot_transport_fits(int n, int m);  /* the auction's unit slots fit */
ot_transport *ot_transport_init(void *work, int n, int m, const double *C);
int ot_transport_run(ot_transport *s, double budget);
double ot_transport_work(const ot_transport *s);
double ot_transport_unit(const ot_transport *s); /* units per row */
double ot_transport_cycles(const ot_transport *s);
int ot_transport_solution(const ot_transport *s, int *fi, int *fj, double *fx,
                          double *u, double *v);
extern double naug, npop, nscan; /* augmentations, row pops, column scans */
#endif

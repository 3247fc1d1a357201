/* Memory advice for the large blocks that hotalign writes once and reads
 * often (standardised layers, per-thread cost matrices). */
#include <stdint.h>
#include <stddef.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "hotalign.h"

/* Asks the kernel to back the whole 2 MiB pages of a fresh block with huge
 * pages (Linux with transparent huge pages in "madvise" mode): faulting a
 * standardised layer in 4 KiB pages cost more than the arithmetic that
 * writes it (10 layers of 1000 x 3072: 0.68 -> 0.12 s).  Advice only;
 * nothing changes where it is not honoured. */
void advise_huge_pages(void *ptr, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t) 1 << 21;
  uintptr_t lo = ((uintptr_t) ptr + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t) ptr + bytes) & ~(huge - 1);
  if (hi > lo) (void) madvise((void *) lo, hi - lo, MADV_HUGEPAGE);
#else
  (void) ptr;
  (void) bytes;
#endif
}

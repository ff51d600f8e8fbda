/*
 * kern_scratch.h - a per-thread scratch buffer for the kernels that
 * rearrange their activations (the AVX-512 lane-group products transpose
 * a batch into lanes). Each thread keeps one buffer, grown on demand and
 * freed when the thread ends, so a product allocates nothing once warm.
 * A kernel holds it only during its own call: kernels never nest.
 */
#ifndef DAI_KERN_SCRATCH_H
#define DAI_KERN_SCRATCH_H

#include <stddef.h>

/* The calling thread's buffer, 64-byte aligned, at least n bytes (its
 * contents are whatever the last call left), or NULL when out of memory. */
void *kern_scratch(size_t n);

#endif

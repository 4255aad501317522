#ifndef COVE_SHA256_H
#define COVE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4). The x86-64 SHA extensions when the CPU has them,
   portable C otherwise. No allocation, no libc beyond memcpy. */
typedef struct {
    uint32_t state[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t pending[64];  /* a partial block */
    uint32_t used;        /* bytes in pending */
} cove_sha256_ctx;

void cove_sha256_init(cove_sha256_ctx *ctx);
void cove_sha256_update(cove_sha256_ctx *ctx, const void *data, size_t len);
void cove_sha256_final(cove_sha256_ctx *ctx, uint8_t digest[32]);
/* 1 when the SHA extensions are used. */
int cove_sha256_accelerated(void);
/* From now on the portable code only (for tests of both paths). */
void cove_sha256_portable_only(void);

#endif

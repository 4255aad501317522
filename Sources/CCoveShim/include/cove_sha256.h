#ifndef COVE_SHA256_H
#define COVE_SHA256_H
#include <stddef.h>
#include <stdint.h>

// SHA-256 with the CPU's SHA instructions (x86-64 SHA-NI), for cove-fs's
// check of a layer's diff_id: several times the portable Swift code. Only
// where cove_sha256_hw_available() says so; elsewhere CoveModel.SHA256.
typedef struct {
    uint32_t state[8];
    uint8_t pending[64];
    size_t used;
    uint64_t length;
} cove_sha256_ctx;

/// 1 when this CPU has the SHA extensions (and SSSE3, SSE4.1), else 0.
int cove_sha256_hw_available(void);
void cove_sha256_hw_init(cove_sha256_ctx *ctx);
void cove_sha256_hw_update(cove_sha256_ctx *ctx, const uint8_t *data, size_t size);
/// The 32-byte digest into `out`; the context is spent.
void cove_sha256_hw_final(cove_sha256_ctx *ctx, uint8_t out[32]);
#endif

#ifndef COVE_SHIM_H
#define COVE_SHIM_H
// Umbrella header: one header per concern, every symbol prefixed cove_.
#include "cove_ns.h"
#include "cove_mount.h"
#include "cove_prctl.h"
#include "cove_fd.h"
#include "cove_tty.h"
#include "cove_net.h"
#include "cove_spawn.h"
#include "cove_files.h"
#include "cove_sha256.h"
#endif

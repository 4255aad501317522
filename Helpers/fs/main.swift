#if canImport(Glibc)
import Glibc
#endif

// cove-fs: layered root filesystems. Not built yet: it says so and fails
// rather than pretend.
let message = "cove-fs: not implemented in this version of cove\n"
_ = message.withCString { write(2, $0, strlen($0)) }
exit(125)

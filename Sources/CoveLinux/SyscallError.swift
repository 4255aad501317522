#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// A failed system call: what was attempted, on what, and errno captured at
/// once. Its description is the one line a user sees.
public struct SyscallError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    public let hint: String?

    public init(_ operation: String, errno: Int32 = Glibc.errno, hint: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.hint = hint
    }

    public var reason: String { Errno(rawValue: errno).description }
    public var description: String {
        var s = "\(operation): \(reason)"
        if let hint { s += " (\(hint))" }
        return s
    }
}

/// Runs a call that returns -1 on failure, turning that into a SyscallError.
@discardableResult
@inline(__always)
public func check<T: BinaryInteger>(_ operation: @autoclosure () -> String, _ result: T) throws -> T {
    if result == -1 { throw SyscallError(operation()) }
    return result
}

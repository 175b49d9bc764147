import Dispatch
internal import CBLAS

/// Runs `body` over `0..<count` split into at most `threads` contiguous ranges, in parallel.
/// With one thread (or little work) it runs inline on the caller's thread.
@inline(__always)
func parallelRanges(_ count: Int, threads: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let parts = min(threads, max(1, count / max(1, minimumPerThread)))
    if parts <= 1 || count <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        // The ranges are disjoint; callers write disjoint parts of their buffers.
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = p * count / parts
            let hi = (p + 1) * count / parts
            if lo < hi { work(lo..<hi) }
        }
    }
}

/// Controls OpenBLAS's own thread pool (process-wide).
public enum BLASThreads {
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

/// Row-major single-precision GEMM: `C[m,n] = A[m,k] * op(B) + beta * C`, where `op(B)` is
/// `B[k,n]` or, with `transB`, `B[n,k]` transposed.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
           c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

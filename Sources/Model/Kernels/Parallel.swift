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

/// `sgemm` split into `threads` independent GEMMs along the larger of `m` and `n`, run on the
/// engine's own threads with OpenBLAS single-threaded (see `BLASThreads`): no OpenBLAS worker
/// threads spin between calls while the engine's other loops run.
@inline(__always)
func parallelSgemm(m: Int, n: Int, k: Int,
                   a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
                   c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0, threads: Int) {
    let splitRows = m >= n
    let extent = splitRows ? m : n
    // Keep each part at least 16 rows/columns wide, in multiples of 16 (the kernels' blocking).
    let parts = min(threads, max(1, extent / 32))
    if parts <= 1 {
        sgemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transB: transB, c: c, ldc: ldc, beta: beta)
        return
    }
    parallelRanges(parts, threads: parts) { range in
        for p in range {
            let lo = (p * extent / parts) & ~15
            let hi = p == parts - 1 ? extent : ((p + 1) * extent / parts) & ~15
            if hi <= lo { continue }
            if splitRows {
                sgemm(m: hi - lo, n: n, k: k, a: a + lo * lda, lda: lda, b: b, ldb: ldb, transB: transB,
                      c: c + lo * ldc, ldc: ldc, beta: beta)
            } else {
                let bPart = transB ? b + lo * ldb : b + lo
                sgemm(m: m, n: hi - lo, k: k, a: a, lda: lda, b: bPart, ldb: ldb, transB: transB,
                      c: c + lo, ldc: ldc, beta: beta)
            }
        }
    }
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

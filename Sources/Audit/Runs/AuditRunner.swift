import Foundation
import Model

/// Settings of an audit run that decide its outputs (stored with the run; a rerun with the
/// same settings resumes or reuses it).
public struct RunSettings: Codable, Sendable, Equatable {
    public var preprocess: PreprocessSettings
    public var minimumSlices: Int
}

/// What the runner reports while it works.
public enum RunEvent: Sendable {
    case started(run: Int, resumed: Bool, total: Int, alreadyDone: Int)
    case patientDone(patientID: String, ok: Bool, reused: Bool, slices: Int, message: String?)
}

/// The outcome of `AuditRunner.run`.
public struct RunSummary: Codable, Sendable {
    public var runID: Int
    public var status: String
    public var resumed: Bool
    public var patients: Int
    public var succeeded: Int
    public var failed: Int
    public var reused: Int
    public var skippedAlreadyDone: Int
    public var slices: Int
    public var seconds: Double
    public var failures: [String: String]
}

/// Reruns a model on a cohort and keeps every output in the audit store.
///
/// Each patient is committed in one transaction, so an interrupted run resumes where it
/// stopped and never redoes or duplicates a patient. Slice outputs are keyed by (series
/// content digest, preprocessing settings, slice-network digest): a model whose slice network
/// is unchanged reruns only the patient network. Reading and preprocessing of the next
/// patient overlap with inference on the current one (at most two patients in flight).
public final class AuditRunner: @unchecked Sendable {
    public let store: AuditStore
    public let engine: MLungSys
    public let manifest: CohortManifest
    public var options: EngineOptions
    public var label: String
    /// Resume this run (it must match the model and cohort).
    public var resumeRunID: Int?
    /// Start a new run even if an incomplete one with the same settings exists.
    public var forceNew = false

    public init(store: AuditStore, engine: MLungSys, manifest: CohortManifest, options: EngineOptions, label: String) {
        self.store = store
        self.engine = engine
        self.manifest = manifest
        self.options = options
        self.label = label
    }

    public var settings: RunSettings {
        RunSettings(preprocess: PreprocessSettings(engine.config), minimumSlices: engine.config.scales.max() ?? 1)
    }

    /// A patient after discovery, digesting and (unless its slice outputs are cached) preprocessing.
    struct Prepared: @unchecked Sendable {
        var entry: CohortManifest.Entry
        var series: DicomSeries?
        var digest = ""
        var key = ""
        var preprocessed: PreprocessedSeries?
        var failure: String?
        var seconds = 0.0
    }

    public func run(progress: @escaping (RunEvent) -> Void = { _ in }) throws -> RunSummary {
        let started = Date()
        let modelID = try store.registerModel(engine.weights)
        let cohortID = try store.registerCohort(manifest)
        let settingsJSON = AuditStore.json(settings)
        var resumed = false
        let runID: Int
        if let id = resumeRunID {
            guard let r = try store.run(id: id) else { throw StoreError(path: store.path, message: "no run \(id)") }
            guard r.modelID == modelID, r.cohortID == cohortID else {
                throw StoreError(path: store.path, message: "run \(id) was made with another model or cohort; it cannot be resumed with these")
            }
            runID = id
            resumed = true
        } else if !forceNew, let r = try store.latestRun(kind: "inference", modelID: modelID, cohortID: cohortID,
                                                          label: label, settingsJSON: settingsJSON), r.status != "complete" {
            runID = r.id
            resumed = true
        } else {
            runID = try store.createRun(kind: "inference", modelID: modelID, cohortID: cohortID, label: label, settingsJSON: settingsJSON)
        }
        let done = try store.finishedPatients(run: runID)
        let todo = manifest.entries.filter { !done.contains($0.patientID) }
        progress(.started(run: runID, resumed: resumed, total: manifest.entries.count, alreadyDone: done.count))

        var summary = RunSummary(runID: runID, status: "running", resumed: resumed, patients: manifest.entries.count,
                                 succeeded: 0, failed: 0, reused: 0, skippedAlreadyDone: done.count, slices: 0, seconds: 0,
                                 failures: [:])
        // A producer prepares the next patient while this thread runs the engine (a queue of one).
        let queue = PreparedQueue()
        let producer = Thread { [self] in
            let reader = try? AuditStore(path: store.path)
            for entry in todo {
                if queue.cancelled { break }
                queue.put(prepare(entry, store: reader))
            }
            queue.finish()
        }
        producer.stackSize = 8 << 20
        producer.start()
        defer { queue.cancel() }

        let preprocessJSON = AuditStore.preprocessJSON(settings.preprocess, config: engine.config)
        let sliceDigest = engine.weights.sliceNetworkDigest
        while let p = queue.take() {
            let t0 = Date()
            let outcome: AuditStore.PatientOutcome
            var reused = false
            var sliceCount = 0
            if let failure = p.failure {
                outcome = .failure(reason: failure)
            } else if let series = p.series {
                if let pre = p.preprocessed {
                    let results = pre.hu.withUnsafeBufferPointer { engine.runSlices(hu: $0, count: pre.count, options: options) }
                    let patient = engine.runPatient(results, threads: options.threads)
                    let record = AuditStore.SliceRecord(slices: pre.slices, statistics: pre.statistics, results: results)
                    sliceCount = pre.count
                    outcome = .success(series: series, contentDigest: p.digest, cacheKey: p.key, preprocessJSON: preprocessJSON,
                                       sliceDigest: sliceDigest, computed: record, slices: results, patient: patient,
                                       seconds: p.seconds + Date().timeIntervalSince(t0))
                } else if let cached = try store.loadSliceResults(p.key) {
                    let patient = engine.runPatient(cached.results, threads: options.threads)
                    reused = true
                    sliceCount = cached.results.count
                    outcome = .success(series: series, contentDigest: p.digest, cacheKey: p.key, preprocessJSON: preprocessJSON,
                                       sliceDigest: sliceDigest, computed: nil, slices: cached.results, patient: patient,
                                       seconds: p.seconds + Date().timeIntervalSince(t0))
                } else {
                    outcome = .failure(reason: "slice cache \(p.key) vanished while the run was going")
                }
            } else {
                outcome = .failure(reason: "no series")
            }
            try store.recordPatient(run: runID, patientID: p.entry.patientID, outcome: outcome)
            switch outcome {
            case .success:
                summary.succeeded += 1
                if reused { summary.reused += 1 }
                summary.slices += sliceCount
                progress(.patientDone(patientID: p.entry.patientID, ok: true, reused: reused, slices: sliceCount, message: nil))
            case .failure(let reason):
                summary.failed += 1
                summary.failures[p.entry.patientID] = reason
                progress(.patientDone(patientID: p.entry.patientID, ok: false, reused: false, slices: 0, message: reason))
            }
        }
        // Earlier failures of a resumed run count too.
        let failedBefore = try store.db.query("SELECT patient_id, error FROM patient_results WHERE run_id = ? AND status = 'failed'", [runID])
        for row in failedBefore where summary.failures[row[0].string ?? ""] == nil {
            summary.failures[row[0].string ?? ""] = row[1].string ?? ""
        }
        try store.finishRun(runID, status: "complete")
        summary.status = "complete"
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Discovery, the series content digest, the cache lookup and, when needed, preprocessing.
    func prepare(_ entry: CohortManifest.Entry, store reader: AuditStore?) -> Prepared {
        let t0 = Date()
        var p = Prepared(entry: entry)
        do {
            var discovery = DiscoveryOptions()
            discovery.minimumSlices = settings.minimumSlices
            let found = try SeriesDiscovery.scan(entry.paths, options: discovery)
            let series = try SeriesSelection.choose(from: found.series, override: entry.seriesUID, context: entry.rawPath)
            p.series = series
            p.digest = try Self.contentDigest(series)
            let preprocessJSON = AuditStore.preprocessJSON(settings.preprocess, config: engine.config)
            p.key = AuditStore.sliceCacheKey(seriesContent: p.digest, preprocessJSON: preprocessJSON,
                                             sliceDigest: engine.weights.sliceNetworkDigest)
            if try reader?.hasSliceCache(p.key) != true {
                let pre = try PreprocessedSeries(series: series, settings: settings.preprocess)
                if !pre.skipped.isEmpty {
                    throw IngestError.series(path: entry.rawPath, reason: "unreadable slice(s): " +
                                             pre.skipped.map { "\($0.path): \($0.reason)" }.joined(separator: "; "))
                }
                if pre.count < settings.minimumSlices {
                    throw IngestError.series(path: entry.rawPath, reason: "\(pre.count) readable slices, fewer than the \(settings.minimumSlices) the model needs")
                }
                p.preprocessed = pre
            }
        } catch {
            p.failure = "\(error)"
        }
        p.seconds = Date().timeIntervalSince(t0)
        return p
    }

    /// SHA-256 over the series' files in slice order (each file's bytes, preceded by its length).
    static func contentDigest(_ s: DicomSeries) throws -> String {
        var h = SHA256()
        for slice in s.slices {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: slice.path), options: .alwaysMapped)
            } catch {
                throw IngestError.unreadable(path: slice.path, reason: (error as NSError).localizedDescription)
            }
            var n = UInt64(data.count).littleEndian
            withUnsafeBytes(of: &n) { h.update($0) }
            h.update(data)
        }
        return h.finalizeHex()
    }
}

/// A blocking hand-off of one prepared patient between the producer and the engine thread.
final class PreparedQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var item: AuditRunner.Prepared?
    private var finished = false
    private(set) var cancelled = false

    func put(_ p: AuditRunner.Prepared) {
        condition.lock()
        while item != nil && !cancelled { condition.wait() }
        if !cancelled { item = p }
        condition.broadcast()
        condition.unlock()
    }

    func take() -> AuditRunner.Prepared? {
        condition.lock()
        defer { condition.unlock() }
        while item == nil && !finished && !cancelled { condition.wait() }
        let p = item
        item = nil
        condition.broadcast()
        return p
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

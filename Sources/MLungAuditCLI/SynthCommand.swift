import ArgumentParser
import Audit
import Foundation

/// `mlung-audit synth`: a synthetic chest-CT cohort with known truth.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a synthetic chest-CT cohort (DICOM) with known truth.",
        discussion: """
        Writes one CT series per patient under OUT (OUT/<id>/IM0001.dcm ...), OUT/manifest.csv
        (patient_id,path,series_uid,label and the generation parameters) and OUT/slices.csv
        (per-slice lung, lesion and artifact areas). Deterministic for equal options.
        Profiles: scanner-a (reference), scanner-b (new scanner), scanner-c (low dose, soft), and
        scanner-a with one known shift each: scanner-a-noise2, scanner-a-sharp, scanner-a-hu25,
        scanner-a-thick. --profile-override changes single settings of the chosen profile
        (keys: noise, noise_grain, blur, sharpen, sharpen_radius, hu_gain, hu_offset, thickness,
        spacing, kernel, manufacturer, model, kvp, exposure, tube_current). --defects gives
        shares of patients an acquisition defect (metal, contrast, truncated, gap) for the
        failure-mode flags; the manifest's defect column names it.
        See docs/synthetic.md.
        """
    )

    @Option(help: "Output directory (created).")
    var out: String

    @Option(help: "Number of patients.")
    var patients: Int

    @Option(help: "Random seed.")
    var seed: UInt64

    @Option(help: "Scanner profile: scanner-a, scanner-b, scanner-c, scanner-a-noise2, scanner-a-sharp, scanner-a-hu25 or scanner-a-thick.")
    var profile: String = "scanner-a"

    @Option(help: ArgumentHelp("Change settings of the profile, e.g. noise=28,hu_offset=25 (see docs/synthetic.md).",
                               valueName: "key=value,..."))
    var profileOverride: String?

    @Option(help: "Class shares, e.g. healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2.")
    var mix: String = "healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2"

    @Option(help: "Share of each class's patients with a pulsatile cardiac-motion artifact (0-1).")
    var artifactRate: Double = 0

    @Option(help: "Peak heart-border displacement of artifacts, mm, as MIN-MAX.")
    var artifactAmplitude: String = "3-9"

    @Option(help: ArgumentHelp("Shares of patients with an acquisition defect, e.g. metal=0.1,contrast=0.1,truncated=0.1,gap=0.1 (one per patient at most; see docs/synthetic.md).",
                               valueName: "defect=share,..."))
    var defects: String?

    @Option(help: "Patient id prefix (ids are PREFIX0001 ...).")
    var idPrefix: String = "P"

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Also write per-voxel truth labels to OUT/truth/<id>.safetensors.")
    var truthMasks = false

    func run() throws {
        try CLIError.reporting {
        do {
            var o = SynthOptions(patients: patients, seed: seed)
            o.profile = try ScannerProfile.named(profile)
            if let profileOverride { o.profile = try o.profile.overriding(profileOverride) }
            o.mix = try SynthOptions.parseMix(mix)
            o.artifactRate = artifactRate
            let parts = artifactAmplitude.split(separator: "-").compactMap { Double($0) }
            guard parts.count == 2, parts[0] > 0, parts[0] <= parts[1] else {
                throw SynthError.invalidOption(name: "--artifact-amplitude", value: artifactAmplitude, reason: "expected MIN-MAX in mm")
            }
            o.artifactAmplitude = parts[0]...parts[1]
            o.idPrefix = idPrefix
            if let defects { o.defects = try AcquisitionDefect.parseRates(defects) }
            if let threads { o.threads = max(1, threads) }
            o.truthMasks = truthMasks
            let started = Date()
            let records = try SyntheticCohort.write(o, to: out) { r in
                printError("\(r.plan.id) \(r.plan.diagnosis.name) \(r.plan.severity.rawValue) artifact=\(r.plan.motion != nil ? "yes" : "no")\(r.plan.defect.map { " defect=\($0.name) (\(r.defectDetail))" } ?? "") slices=\(r.slices.count) lesion=\(String(format: "%.1f", r.lesionVolumeML)) ml")
            }
            let counts = Diagnosis.allCases.map { d in "\(d.name) \(records.filter { $0.plan.diagnosis == d }.count)" }
            let artifacts = records.filter { $0.plan.motion != nil }.count
            print("\(out): \(records.count) patient(s) (\(counts.joined(separator: ", ")); \(artifacts) with artifact), \(records.reduce(0) { $0 + $1.slices.count }) slices, profile \(o.profile.name), \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        } catch let e as SynthError {
            throw CLIError.fail(e.description, ExitCodes.badInput)
        }
        }
    }
}

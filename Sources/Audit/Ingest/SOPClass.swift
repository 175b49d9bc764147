/// The SOP classes discovery knows by name, and how it treats them.
public enum SOPClass {
    public static let ctImage = "1.2.840.10008.5.1.4.1.1.2"
    public static let enhancedCT = "1.2.840.10008.5.1.4.1.1.2.1"
    public static let legacyEnhancedCT = "1.2.840.10008.5.1.4.1.1.2.2"
    public static let mediaStorageDirectory = "1.2.840.10008.1.3.10"

    /// Secondary capture image storage (single- and multi-frame).
    public static let secondaryCapture: Set<String> = [
        "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
        "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
    ]

    /// Names of common SOP classes, for messages.
    public static let names: [String: String] = [
        ctImage: "CT Image", enhancedCT: "Enhanced CT Image", legacyEnhancedCT: "Legacy Converted Enhanced CT Image",
        mediaStorageDirectory: "DICOMDIR",
        "1.2.840.10008.5.1.4.1.1.4": "MR Image", "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture",
        "1.2.840.10008.5.1.4.1.1.11.1": "Grayscale Softcopy Presentation State",
        "1.2.840.10008.5.1.4.1.1.66": "Raw Data", "1.2.840.10008.5.1.4.1.1.66.1": "Spatial Registration",
        "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation", "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
        "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR", "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
        "1.2.840.10008.5.1.4.1.1.88.59": "Key Object Selection", "1.2.840.10008.5.1.4.1.1.88.67": "X-Ray Radiation Dose SR",
        "1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF", "1.2.840.10008.5.1.4.1.1.481.2": "RT Dose",
        "1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set", "1.2.840.10008.5.1.4.1.1.481.5": "RT Plan",
        "1.2.840.10008.5.1.4.1.1.128": "PET Image", "1.2.840.10008.5.1.4.1.1.20": "NM Image",
        "1.2.840.10008.5.1.4.1.1.1": "CR Image", "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image",
    ]

    /// SOP classes that never carry an image, whatever their attributes say.
    public static let nonImagePrefixes = [
        "1.2.840.10008.5.1.4.1.1.88.",   // structured reports (incl. dose reports)
        "1.2.840.10008.5.1.4.1.1.11.",   // presentation states
        "1.2.840.10008.5.1.4.1.1.66",    // raw data, registration, segmentation, surfaces
        "1.2.840.10008.5.1.4.1.1.104.",  // encapsulated documents
        "1.2.840.10008.5.1.4.1.1.481.",  // radiotherapy objects
        "1.2.840.10008.5.1.4.1.1.9.",    // waveforms
        "1.2.840.10008.5.1.4.1.1.200.",  // protocols
        "1.2.840.10008.1.3.10",          // DICOMDIR
    ]

    /// "Name (uid)" or the bare UID.
    public static func describe(_ uid: String?) -> String {
        guard let uid else { return "no SOPClassUID" }
        if let name = names[uid] { return "\(name) (\(uid))" }
        return uid
    }

    /// Whether `uid` is a known non-image object class.
    public static func isNonImage(_ uid: String) -> Bool {
        nonImagePrefixes.contains { uid.hasPrefix($0) }
    }
}

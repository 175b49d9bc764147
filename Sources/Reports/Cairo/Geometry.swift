/// A point in PDF points (1/72 inch), y growing downwards as in Cairo.
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// An axis-aligned rectangle in points, origin at the top-left.
public struct Rect: Sendable, Equatable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    /// The rectangle shrunk by the given amounts on each side.
    public func inset(top: Double = 0, left: Double = 0, bottom: Double = 0, right: Double = 0) -> Rect {
        Rect(x: x + left, y: y + top, width: max(0, width - left - right), height: max(0, height - top - bottom))
    }

    public func inset(by d: Double) -> Rect { inset(top: d, left: d, bottom: d, right: d) }

    /// Whether the two rectangles share interior area (touching edges do not count).
    public func overlaps(_ o: Rect, tolerance: Double = 0.01) -> Bool {
        x + tolerance < o.maxX && o.x + tolerance < maxX && y + tolerance < o.maxY && o.y + tolerance < maxY
    }

    /// Whether `o` lies inside this rectangle (edges included, with a small tolerance).
    public func contains(_ o: Rect, tolerance: Double = 0.01) -> Bool {
        o.x >= x - tolerance && o.y >= y - tolerance && o.maxX <= maxX + tolerance && o.maxY <= maxY + tolerance
    }

    /// The largest rectangle of the given aspect (width / height) centred inside this one.
    public func fitting(aspect: Double) -> Rect {
        if width / height > aspect {
            let w = height * aspect
            return Rect(x: x + (width - w) / 2, y: y, width: w, height: height)
        }
        let h = width / aspect
        return Rect(x: x, y: y + (height - h) / 2, width: width, height: h)
    }

    public var description: String {
        func f(_ v: Double) -> String { Format.fixed(v, digits: 1) }
        return "[\(f(x)) \(f(y)) \(f(width))x\(f(height))]"
    }
}

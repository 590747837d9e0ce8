import CFFmpeg

/// Arithmetic on timestamps read from a file. Any Int64 can arrive there
/// (AV_NOPTS_VALUE, values near the limits, a corrupt 33-bit PTS), so these
/// never trap: differences that overflow are taken in floating point.
enum Ticks {
    /// Ticks from `a` to `b` (exact while they fit in Int64).
    static func difference(from a: Int64, to b: Int64) -> Double {
        let (difference, overflow) = b.subtractingReportingOverflow(a)
        return overflow ? Double(b) - Double(a) : Double(difference)
    }

    /// Seconds from tick `a` to tick `b` in `timeBase` (multiplied by num, then
    /// divided by den: exact when the result is a whole number of seconds).
    static func seconds(from a: Int64, to b: Int64, timeBase: AVRational) -> Double {
        seconds(difference(from: a, to: b), timeBase: timeBase)
    }

    /// `ticks` of `timeBase` in seconds.
    static func seconds(_ ticks: Double, timeBase: AVRational) -> Double {
        ticks * Double(timeBase.num) / Double(timeBase.den)
    }

    /// `a + b`, saturated at the Int64 range.
    static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if !overflow { return sum }
        return b > 0 ? .max : .min
    }
}

/// A contiguous row-major float32 tensor. Hot loops take its storage through
/// `withUnsafe...` buffer pointers; the type itself is a plain value.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    /// Size of the last dimension.
    public var columns: Int { shape.last ?? 1 }
    /// Product of all dimensions but the last.
    public var rows: Int { shape.isEmpty ? 1 : count / max(1, columns) }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `range` of the (rows, columns) view.
    public func rows(_ range: Range<Int>) -> Tensor {
        let c = columns
        return Tensor(shape: [range.count, c], data: Array(data[(range.lowerBound * c)..<(range.upperBound * c)]))
    }

    /// Largest |a - b| / max(1e-6, |b|) over all elements, and the largest absolute difference.
    public func maxDifference(to other: Tensor) -> (absolute: Float, relative: Float) {
        precondition(count == other.count)
        var abs: Float = 0, rel: Float = 0
        for i in 0..<count {
            let d = Swift.abs(data[i] - other.data[i])
            abs = max(abs, d)
            rel = max(rel, d / max(1e-6, Swift.abs(other.data[i])))
        }
        return (abs, rel)
    }
}

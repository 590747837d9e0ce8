/// Values copied into memory that stays put for the buffer's lifetime: the
/// stand-in for a memory-mapped checkpoint when a test builds a
/// `WeightMatrix` over raw F16, BF16 or int8 data (its `owner`).
public final class PinnedBuffer<Element> {
    public let pointer: UnsafeMutablePointer<Element>
    public let count: Int

    public init(_ values: [Element]) {
        count = values.count
        pointer = .allocate(capacity: max(1, values.count))
        pointer.initialize(from: values, count: values.count)
    }

    public var raw: UnsafeRawPointer { UnsafeRawPointer(pointer) }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

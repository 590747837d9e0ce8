/// One value built by `PickleMachine`. Lists and dicts are reference types
/// while unpickling because pickle fills them after memoising them.
public final class PickleNode: @unchecked Sendable {
    public enum Kind: Sendable {
        case none, mark
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case list, tuple, dict
        /// A global named by the pickle (`module.name`), never imported or called.
        case global(String)
        /// The result of calling a global we do not interpret: kept opaque.
        case object(String)
        case storage(TorchStorage)
        case tensor(TorchTensor)
    }

    public internal(set) var kind: Kind
    /// Elements of a list or tuple, or the arguments of an opaque object.
    public internal(set) var items: [PickleNode] = []
    /// Entries of a dict, in order.
    public internal(set) var pairs: [(key: PickleNode, value: PickleNode)] = []

    init(_ kind: Kind, items: [PickleNode] = []) {
        self.kind = kind
        self.items = items
    }

    public var string: String? { if case let .string(s) = kind { s } else { nil } }
    public var int: Int? { if case let .int(i) = kind { i } else { nil } }
    public var tensor: TorchTensor? { if case let .tensor(t) = kind { t } else { nil } }
    public var isDict: Bool { if case .dict = kind { true } else { false } }

    /// The value for a string key of a dict.
    public subscript(key: String) -> PickleNode? { pairs.first { $0.key.string == key }?.value }
}

import Foundation

/// A restricted unpickler for PyTorch checkpoints (pickle protocols 2-5, the
/// opcodes `torch.save` and Hugging Face `.bin` files use). It never imports
/// or calls anything: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`
/// and `_rebuild_parameter` are interpreted; every other global becomes an
/// opaque node, so a malicious pickle cannot run code. Storages arrive as
/// persistent ids `('storage', torch.FloatStorage, key, location, numel)`.
struct PickleMachine {
    let bytes: [UInt8]
    let path: String
    var position = 0
    var stack: [PickleNode] = []
    var memo: [Int: PickleNode] = [:]
    /// Element counts, so a hostile pickle cannot make us allocate without bound.
    var budget = 50_000_000

    init(_ data: Data, path: String) {
        bytes = [UInt8](data)
        self.path = path
    }

    mutating func run() throws(WeightError) -> PickleNode {
        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()  // PROTO
            case 0x95: position += 8  // FRAME
            case UInt8(ascii: "."):  // STOP
                guard let top = stack.popLast() else { throw bad("STOP with an empty stack") }
                return top
            case UInt8(ascii: "("): stack.append(PickleNode(.mark))
            case UInt8(ascii: "}"): stack.append(PickleNode(.dict))
            case UInt8(ascii: "]"): stack.append(PickleNode(.list))
            case UInt8(ascii: ")"): stack.append(PickleNode(.tuple))
            case UInt8(ascii: "t"): stack.append(PickleNode(.tuple, items: try popToMark()))
            case 0x85: stack.append(PickleNode(.tuple, items: try pop(1)))
            case 0x86: stack.append(PickleNode(.tuple, items: try pop(2)))
            case 0x87: stack.append(PickleNode(.tuple, items: try pop(3)))
            case UInt8(ascii: "N"): stack.append(PickleNode(.none))
            case 0x88: stack.append(PickleNode(.bool(true)))
            case 0x89: stack.append(PickleNode(.bool(false)))
            case UInt8(ascii: "K"): stack.append(PickleNode(.int(Int(try byte()))))
            case UInt8(ascii: "M"): stack.append(PickleNode(.int(try unsigned(2))))
            case UInt8(ascii: "J"): stack.append(PickleNode(.int(Int(Int32(truncatingIfNeeded: try unsigned(4))))))
            case 0x8A:  // LONG1: little-endian two's complement
                let n = Int(try byte())
                guard n <= 8 else { throw bad("integer of \(n) bytes") }
                let raw = try take(n)
                var v: Int64 = 0
                for (i, b) in raw.enumerated() { v |= Int64(b) << (8 * Int64(i)) }
                if n > 0, n < 8, raw[n - 1] & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
                stack.append(PickleNode(.int(Int(v))))
            case UInt8(ascii: "G"):
                let raw = try take(8)
                stack.append(PickleNode(.float(Double(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))))
            case UInt8(ascii: "X"): stack.append(PickleNode(.string(try text(try unsigned(4)))))
            case 0x8C: stack.append(PickleNode(.string(try text(Int(try byte())))))
            case 0x8D: stack.append(PickleNode(.string(try text(try unsigned(8)))))
            case UInt8(ascii: "U"): stack.append(PickleNode(.string(try text(Int(try byte())))))
            case UInt8(ascii: "T"): stack.append(PickleNode(.string(try text(try unsigned(4)))))
            case UInt8(ascii: "C"): stack.append(PickleNode(.bytes(try take(Int(try byte())))))
            case UInt8(ascii: "B"): stack.append(PickleNode(.bytes(try take(try unsigned(4)))))
            case 0x8E: stack.append(PickleNode(.bytes(try take(try unsigned(8)))))
            case UInt8(ascii: "c"):  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(PickleNode(.global("\(module).\(name)")))
            case 0x93:  // STACK_GLOBAL
                let parts = try pop(2)
                guard let module = parts[0].string, let name = parts[1].string else { throw bad("STACK_GLOBAL needs two strings") }
                stack.append(PickleNode(.global("\(module).\(name)")))
            case UInt8(ascii: "R"):  // REDUCE
                let args = try pop(1)[0], callable = try pop(1)[0]
                stack.append(try call(callable, args.items))
            case 0x81:  // NEWOBJ
                let args = try pop(1)[0], cls = try pop(1)[0]
                stack.append(try call(cls, args.items))
            case UInt8(ascii: "b"):  // BUILD: state is ignored (OrderedDict._metadata, object attributes)
                _ = try pop(1)
                guard !stack.isEmpty else { throw bad("BUILD with an empty stack") }
            case UInt8(ascii: "Q"):  // BINPERSID
                stack.append(try persistent(try pop(1)[0]))
            case UInt8(ascii: "s"):
                let kv = try pop(2)
                try top(dict: true).pairs.append((kv[0], kv[1]))
            case UInt8(ascii: "u"):
                let items = try popToMark()
                guard items.count % 2 == 0 else { throw bad("SETITEMS with an odd number of items") }
                let dict = try top(dict: true)
                for i in stride(from: 0, to: items.count, by: 2) { dict.pairs.append((items[i], items[i + 1])) }
                try spend(items.count)
            case UInt8(ascii: "a"):
                let item = try pop(1)
                try top(dict: false).items.append(contentsOf: item)
            case UInt8(ascii: "e"):
                let items = try popToMark()
                try top(dict: false).items.append(contentsOf: items)
                try spend(items.count)
            case 0x90:  // EMPTY_SET: kept as a list
                stack.append(PickleNode(.list))
            case 0x91:  // FROZENSET
                stack.append(PickleNode(.list, items: try popToMark()))
            case 0x8F:  // ADDITEMS
                let items = try popToMark()
                try top(dict: false).items.append(contentsOf: items)
            case UInt8(ascii: "q"): memo[Int(try byte())] = try peek()
            case UInt8(ascii: "r"): memo[try unsigned(4)] = try peek()
            case 0x94: memo[memo.count] = try peek()
            case UInt8(ascii: "h"): stack.append(try recall(Int(try byte())))
            case UInt8(ascii: "j"): stack.append(try recall(try unsigned(4)))
            case UInt8(ascii: "0"): _ = try pop(1)
            case UInt8(ascii: "1"): _ = try popToMark()
            case UInt8(ascii: "2"): stack.append(try peek())
            default:
                throw bad(String(format: "unsupported pickle opcode 0x%02x at byte %d", op, position - 1))
            }
            try spend(1)
        }
    }

    // MARK: - Interpreted globals

    private func call(_ callable: PickleNode, _ args: [PickleNode]) throws(WeightError) -> PickleNode {
        guard case let .global(name) = callable.kind else { return PickleNode(.object("<call>"), items: args) }
        switch name {
        case "collections.OrderedDict", "builtins.dict":
            return PickleNode(.dict)
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case let .storage(storage) = args[0].kind, let offset = args[1].int,
                  let shape = ints(args[2]), let stride = ints(args[3]) else {
                throw bad("\(name) called with unexpected arguments")
            }
            guard shape.count == stride.count, shape.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }), offset >= 0 else {
                throw bad("tensor of shape \(shape) and stride \(stride) is malformed")
            }
            let last = shape.contains(0) ? offset : offset + zip(shape, stride).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
            guard shape.contains(0) || last < storage.elementCount else {
                throw bad("tensor of shape \(shape), stride \(stride), offset \(offset) reads past its storage of \(storage.elementCount) elements")
            }
            return PickleNode(.tensor(TorchTensor(storage: storage, offset: offset, shape: shape, stride: stride)))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = args.first, first.tensor != nil else { throw bad("\(name) without a tensor") }
            return first
        default:
            return PickleNode(.object(name), items: args)
        }
    }

    private func persistent(_ pid: PickleNode) throws(WeightError) -> PickleNode {
        let t = pid.items
        guard t.count >= 5, t[0].string == "storage", case let .global(type) = t[1].kind, let key = t[2].string,
              let count = t[4].int, count >= 0 else {
            throw bad("unexpected persistent id (not a torch storage)")
        }
        let className = String(type.split(separator: ".").last ?? "")
        guard let (dtype, _) = TorchStorage.dtypes[className] else { throw bad("storage type \(type) is not supported") }
        guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { throw bad("storage key '\(key)' is not a plain name") }
        return PickleNode(.storage(TorchStorage(key: key, dtype: dtype, elementCount: count)))
    }

    private func ints(_ node: PickleNode) -> [Int]? {
        let values = node.items.compactMap(\.int)
        return values.count == node.items.count ? values : nil
    }

    // MARK: - Reading

    private func bad(_ reason: String) -> WeightError { .malformedCheckpoint(path: path, reason: reason) }

    private mutating func spend(_ n: Int) throws(WeightError) {
        budget -= n
        if budget < 0 { throw bad("the pickle is too large") }
    }

    private mutating func byte() throws(WeightError) -> UInt8 {
        guard position < bytes.count else { throw bad("the pickle ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ n: Int) throws(WeightError) -> [UInt8] {
        guard n >= 0, n <= bytes.count - position else { throw bad("the pickle ends early") }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    private mutating func unsigned(_ n: Int) throws(WeightError) -> Int {
        let raw = try take(n)
        var v: UInt64 = 0
        for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw bad("length out of range") }
        return Int(v)
    }

    private mutating func text(_ n: Int) throws(WeightError) -> String {
        String(decoding: try take(n), as: UTF8.self)
    }

    private mutating func line() throws(WeightError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw bad("unterminated GLOBAL") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func pop(_ n: Int) throws(WeightError) -> [PickleNode] {
        guard stack.count >= n else { throw bad("stack underflow") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popToMark() throws(WeightError) -> [PickleNode] {
        guard let mark = stack.lastIndex(where: { if case .mark = $0.kind { true } else { false } }) else {
            throw bad("no MARK on the stack")
        }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[(mark + 1)...])
    }

    private func peek() throws(WeightError) -> PickleNode {
        guard let top = stack.last else { throw bad("stack underflow") }
        return top
    }

    private func top(dict: Bool) throws(WeightError) -> PickleNode {
        guard let top = stack.last else { throw bad("stack underflow") }
        switch top.kind {
        case .dict where dict, .list where !dict: return top
        default: throw bad("a container operation on a value that is not a \(dict ? "dict" : "list")")
        }
    }

    private func recall(_ i: Int) throws(WeightError) -> PickleNode {
        guard let node = memo[i] else { throw bad("memo entry \(i) is missing") }
        return node
    }
}

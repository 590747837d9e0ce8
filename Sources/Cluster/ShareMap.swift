import Foundation

/// Named share roots (`--share NAME=ROOT`): a video is known to the cluster as (share name, path
/// relative to the root), so hosts that mount the same share at different places agree on its
/// identity (docs/CLUSTER.md, "Identity").
public struct ShareMap: Sendable, Equatable {
    /// Name -> absolute root, symbolic links resolved.
    public private(set) var roots: [String: String] = [:]

    public init() {}

    /// Parses `NAME=ROOT` options; names are [A-Za-z0-9_.-]+, roots existing directories.
    public init(_ options: [String]) throws(ClusterError) {
        for option in options {
            guard let equals = option.firstIndex(of: "=") else { throw .badShare(option, reason: "expected NAME=ROOT") }
            let name = String(option[..<equals]), root = String(option[option.index(after: equals)...])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
                throw .badShare(option, reason: "the name must be letters, digits, '_', '.' or '-'")
            }
            try add(name: name, root: root, option: option)
        }
    }

    public mutating func add(name: String, root: String, option: String? = nil) throws(ClusterError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .badShare(option ?? "\(name)=\(root)", reason: "\(root) is not a directory")
        }
        guard roots[name] == nil else { throw .badShare(option ?? name, reason: "the share \(name) is named twice") }
        roots[name] = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The share and share-relative path of `path` (the deepest root containing it), or nil.
    public func locate(_ path: String) -> (share: String, relative: String)? {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        // Resolve links in the directory part only: a link as the last component is the file itself.
        let directory = absolute.deletingLastPathComponent().resolvingSymlinksInPath().path
        let full = (directory as NSString).appendingPathComponent(absolute.lastPathComponent)
        var best: (share: String, relative: String)?
        var bestLength = -1
        for (name, root) in roots {
            let prefix = root.hasSuffix("/") ? root : root + "/"
            if full.hasPrefix(prefix), root.count > bestLength {
                best = (name, String(full.dropFirst(prefix.count)))
                bestLength = root.count
            }
        }
        return best
    }

    /// Where (share, relative) is on this host, or nil if this host does not mount the share.
    public func path(share: String, relative: String) -> String? {
        guard let root = roots[share], !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else { return nil }
        return (root as NSString).appendingPathComponent(relative)
    }

    public var names: [String] { roots.keys.sorted() }
}

import Foundation

/// Where the shipped pipelines and default model are: beside the repository
/// the binary was built in (`.build/<config>/flamingo` -> `Pipelines/`,
/// `Models/shapes-v1`), under /usr/local/share/flamingo when installed, or
/// where FLAMINGO_PIPELINES / FLAMINGO_MODEL point. Public, so that a library user resolves a
/// pipeline's `model: default` as the CLI does.
public enum ResourceLocator {
    public static let defaultModelName = "shapes-v1"

    private static var roots: [URL] {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        var candidates: [URL] = []
        for _ in 0..<4 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        return candidates + [URL(fileURLWithPath: "/usr/local/share/flamingo"), URL(fileURLWithPath: "/usr/share/flamingo")]
    }

    public static var pipelinesDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["FLAMINGO_PIPELINES"] { return URL(fileURLWithPath: env) }
        return roots.map { $0.appendingPathComponent("Pipelines") }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("default.yaml").path) }
            ?? URL(fileURLWithPath: "Pipelines")
    }

    /// The shipped model's directory, if it is installed.
    public static var defaultModel: URL? {
        if let env = ProcessInfo.processInfo.environment["FLAMINGO_MODEL"] { return URL(fileURLWithPath: env) }
        return roots.map { $0.appendingPathComponent("Models/\(defaultModelName)") }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
    }

    /// A pipeline's `model:` value: "default", or a directory relative to the pipeline file.
    public static func model(_ value: String, pipelineFile: String) throws(ResourceError) -> URL {
        if value == "default" {
            guard let url = defaultModel else { throw .defaultModelMissing(name: defaultModelName) }
            return url
        }
        if value.hasPrefix("/") { return URL(fileURLWithPath: value) }
        return URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(value).standardizedFileURL
    }
}

import ArgumentParser
import Foundation
import Generation
import Pipeline

/// `--model DIR`, defaulting to the shipped model (Models/shapes-v1).
struct ModelOption: ParsableArguments {
    @Option(help: "Model directory (config.json, model.safetensors, tokenizer.json); default: the shipped model.")
    var model: String?

    var directory: URL {
        get throws {
            if let model { return URL(fileURLWithPath: model) }
            guard let url = ResourceLocator.defaultModel else {
                throw CLIError(ResourceError.defaultModelMissing(name: ResourceLocator.defaultModelName).localizedDescription)
            }
            return url
        }
    }

    func session() throws -> FlamingoSession {
        try CLIError.reporting { try FlamingoSession(directory: try directory) }
    }
}

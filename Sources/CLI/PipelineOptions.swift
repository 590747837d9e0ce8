import ArgumentParser
import Foundation
import Generation
import Pipeline
import VideoIO

/// `--pipeline` and `--model`, shared by `run` and `watch`, and what they load:
/// the validated pipeline and a runner over the loaded model.
struct PipelineOptions: ParsableArguments {
    @Option(help: "A pipeline name in Pipelines/ (default) or a YAML file.")
    var pipeline: String = "default"

    @Option(help: "Model directory (default: the pipeline's model).")
    var model: String?

    /// Loads the pipeline (refused with file:line on error) and its model.
    func makeRunner(limits: VideoReaderLimits = VideoReaderLimits()) throws -> PipelineRunner {
        let pipelineURL = PipelineLoader.resolve(pipeline, directory: ResourceLocator.pipelinesDirectory)
        let definition: PipelineDefinition
        do { definition = try PipelineLoader.load(contentsOf: pipelineURL) } catch { throw CLIError(error.localizedDescription) }
        let modelURL = try model.map { URL(fileURLWithPath: $0) }
            ?? CLIError.reporting { try ResourceLocator.model(definition.model, pipelineFile: definition.path) }
        let session: FlamingoSession
        do { session = try FlamingoSession(directory: modelURL) } catch let error as any LocalizedError {
            throw CLIError("\(modelURL.path): \(error.errorDescription ?? "\(error)")")
        }
        do {
            return try PipelineRunner(pipeline: definition, session: session,
                                      modelName: model == nil ? definition.model : modelURL.lastPathComponent, limits: limits)
        } catch { throw CLIError(error.localizedDescription) }
    }
}

import ArgumentParser
import Foundation
import Model

/// `flamingo info`: what a model is (its model card: name, domain, recipe, evaluation figures) and its
/// shapes and weights, before anyone trusts its answers.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a model's card (name, the domain it was trained for, recipe, evaluation) and its shapes.")

    @OptionGroup var modelOption: ModelOption

    @Flag(help: "JSON: the model card as stored (null without one) and the shapes.")
    var json = false

    func run() throws {
        let directory = try modelOption.directory
        let model = try CLIError.reporting { try FlamingoModel.load(directory: directory) }
        let c = model.configuration
        let shapes: [String: Any] = [
            "weights": model.weightsDescription,
            "language_model_parameters": model.languageModelParameterCount,
            "vision": ["width": c.vision.width, "layers": c.vision.layers, "image_size": c.vision.imageSize, "patch_size": c.vision.patchSize],
            "resampler": ["depth": c.resampler.depth, "latents": c.resampler.numLatents, "max_frames": c.resampler.maxNumFrames as Any],
            "language_model": ["architecture": c.languageModel.architecture, "d_model": c.languageModel.dModel,
                               "layers": c.languageModel.nLayers, "vocab_size": c.languageModel.vocabSize,
                               "max_seq_len": c.languageModel.maxSeqLen],
            "cross_attention_every_n_layers": c.crossAttention.everyNLayers,
        ]
        if json {
            var card: Any = NSNull()
            if let data = try? Data(contentsOf: directory.appendingPathComponent(ModelCard.fileName)),
               let object = try? JSONSerialization.jsonObject(with: data) { card = object }
            let out = try JSONSerialization.data(withJSONObject: ["directory": directory.path, "card": card, "shapes": shapes],
                                                 options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: out, as: UTF8.self))
            return
        }
        print("model: \(directory.path)")
        if let card = model.card {
            print("name: \(card.name)")
            print("domain: \(card.domain)")
            print("recipe: \(card.recipe)")
            if let evaluation = card.evaluation {
                print("evaluation on \(evaluation.set):")
                for (name, value) in evaluation.figures.sorted(by: { $0.key < $1.key }) {
                    let label = "  " + name.padding(toLength: max(34, name.count), withPad: " ", startingAt: 0)
                    print(label + (value <= 1 ? String(format: " %6.2f%%", value * 100) : String(format: " %g", value)))
                }
            }
        } else {
            print("no model card (\(ModelCard.fileName)): the domain this model was trained for is not stated")
        }
        if let domain = model.domain {
            print(String(format: "in-domain statistics: rank %d of %d, threshold %.2f (%.2f x the %.1f%% calibration distance)",
                         domain.rank, domain.width, domain.threshold, domain.margin, domain.percentile))
        } else {
            print("in-domain statistics: none (\(DomainStatistics.fileName); flamingo calibrate): videos get no in-domain score")
        }
        print("weights: \(model.weightsDescription); language model \(c.languageModel.architecture), "
              + "\(c.languageModel.dModel) wide x \(c.languageModel.nLayers) layers, vocabulary \(c.languageModel.vocabSize), "
              + "at most \(c.languageModel.maxSeqLen) tokens (\(model.languageModelParameterCount) parameters)")
        print("vision: ViT \(c.vision.width) wide x \(c.vision.layers) layers at \(c.vision.imageSize) px (patch \(c.vision.patchSize)); "
              + "resampler depth \(c.resampler.depth), \(c.resampler.numLatents) latents"
              + (c.resampler.maxNumFrames.map { ", temporal embeddings for \($0) frames" } ?? "")
              + "; cross-attention before every \(c.crossAttention.everyNLayers) layer(s)")
    }
}

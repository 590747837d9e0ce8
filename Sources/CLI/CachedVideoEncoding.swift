import Foundation
import Generation
import Model
import Pipeline
import VideoIO

/// A video's cross-attention memory for `caption` and `ask`, from the visual token cache when the same
/// video was seen with the same model (no read, no vision encoder, no resampler), else read and encoded
/// and then cached; with its in-domain check.
enum CachedVideoEncoding {
    static func memory(session: FlamingoSession, video: String, limits: VideoReaderLimits, useCache: Bool) throws
        -> (memory: FlamingoModel.MediaMemory, domain: DomainCheck?) {
        let model = session.model
        let width = model.resampler.width  // latents are (num_latents, vision width)
        let cache = useCache ? VisualTokenCache(directory: VisualTokenCache.standardDirectory) : nil
        let key = cache == nil ? nil : VisualTokenCache.key(video: video, modelDirectory: session.directory,
                                                          frames: session.defaultMaxFrames,
                                                          imageSize: model.configuration.preprocessing.imageSize)
        if let cache, let key, let entry = cache.load(key, width: width) {
            let domain = model.domain.flatMap { stats in entry.domainScore.map { DomainCheck(score: $0, threshold: stats.threshold) } }
            return (model.mediaMemory([entry.latents]), domain)
        }
        let item = try session.loadMedia(path: video, limits: limits)
        let (latents, domain) = try model.encodeMediaChecked(pixels: item.pixels, frames: item.frames.count)
        if let cache, let key {
            cache.store(key, .init(latents: latents, frames: item.frames.count, domainScore: domain?.score), width: width)
        }
        return (model.mediaMemory([latents]), domain)
    }
}

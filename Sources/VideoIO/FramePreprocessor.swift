import CFFmpeg

/// Turns a decoded frame into the model's R x R RGB24 picture in one swscale
/// pass: the centre square (in display geometry, so the sample aspect ratio
/// is applied before cropping) is cut out as a source rectangle by
/// `av_frame_apply_cropping`, scaled straight to R x R with bicubic
/// filtering, then rotated upright. Colour matrix and range follow the
/// frame, as the CLI's scale filter does (docs/VIDEO_READER.md §Preprocessing).
final class FramePreprocessor {
    let size: Int
    let rotation: Int
    let path: String
    private var sws: OpaquePointer?
    private var key: Key?
    /// Scaler output, 64-byte-aligned rows.
    private let scratch: UnsafeMutablePointer<UInt8>
    private let stride: Int

    private struct Key: Equatable {
        var width: Int32, height: Int32, format: Int32, colorspace: UInt32, fullRange: Bool
    }

    static let scaleFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT

    init(size: Int, rotation: Int, path: String) throws(VideoIOError) {
        self.size = size
        self.rotation = rotation
        self.path = path
        stride = (size * 3 + 63) & ~63
        guard let buffer = av_malloc(stride * size)?.assumingMemoryBound(to: UInt8.self) else {
            throw .ffmpeg(path: path, operation: "allocating the scaler buffer", message: "out of memory")
        }
        scratch = buffer
    }

    deinit {
        sws_freeContext(sws)
        av_free(scratch)
    }

    /// The centre square of a `width` x `height` picture whose pixels are
    /// `sar` wide, as a source rectangle (left, top, width, height).
    static func centreSquare(width: Int, height: Int, sar: AVRational) -> (left: Int, top: Int, width: Int, height: Int) {
        let ratio = sar.num > 0 && sar.den > 0 ? Double(sar.num) / Double(sar.den) : 1
        let side = min(Double(width) * ratio, Double(height))
        let w = max(1, min(width, Int((side / ratio).rounded())))
        let h = max(1, min(height, Int(side.rounded())))
        return ((width - w) / 2, (height - h) / 2, w, h)
    }

    /// Writes `size * size * 3` bytes of RGB24 into `output`.
    func convert(_ frame: UnsafePointer<AVFrame>, streamSAR: AVRational, into output: UnsafeMutablePointer<UInt8>) throws(VideoIOError) {
        guard let cropped = av_frame_clone(frame) else {
            throw .ffmpeg(path: path, operation: "referencing a frame", message: "out of memory")
        }
        var croppedRef: UnsafeMutablePointer<AVFrame>? = cropped
        defer { av_frame_free(&croppedRef) }

        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        var sar = frame.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = streamSAR }
        let square = Self.centreSquare(width: w, height: h, sar: sar)
        cropped.pointee.crop_left = square.left
        cropped.pointee.crop_top = square.top
        cropped.pointee.crop_right = w - square.left - square.width
        cropped.pointee.crop_bottom = h - square.top - square.height
        let cropResult = av_frame_apply_cropping(cropped, Int32(AV_FRAME_CROP_UNALIGNED))
        guard cropResult >= 0 else {
            throw .ffmpeg(path: path, operation: "cropping a frame", message: FFmpegError.message(cropResult))
        }

        let format = cropped.pointee.format
        let fullRange = cropped.pointee.color_range == AVCOL_RANGE_JPEG
        let k = Key(width: cropped.pointee.width, height: cropped.pointee.height, format: format,
                    colorspace: cropped.pointee.colorspace.rawValue, fullRange: fullRange)
        if k != key {
            sws_freeContext(sws)
            sws = sws_getContext(k.width, k.height, AVPixelFormat(rawValue: format), Int32(size), Int32(size),
                                 AV_PIX_FMT_RGB24, Self.scaleFlags, nil, nil, nil)
            key = sws == nil ? nil : k
            guard let sws else {
                let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: format)).map { String(cString: $0) } ?? "\(format)"
                throw .ffmpeg(path: path, operation: "creating a scaler", message: "pixel format \(name) at \(k.width)x\(k.height) is not supported")
            }
            // YUV sources: matrix and range from the frame (unspecified -> BT.601,
            // swscale's default), as the CLI's scale filter does. RGB sources
            // need no matrix, and RGB output is always full range.
            let isRGB = av_pix_fmt_desc_get(AVPixelFormat(rawValue: format)).map {
                $0.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0
            } ?? false
            if !isRGB {
                let space = Int32(bitPattern: k.colorspace)
                sws_setColorspaceDetails(sws, sws_getCoefficients(space), fullRange ? 1 : 0,
                                         sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
            }
        }
        let scaled = fl_sws_scale_frame(sws, cropped, scratch, Int32(stride))
        guard scaled == Int32(size) else {
            throw .ffmpeg(path: path, operation: "scaling a frame", message: scaled < 0 ? FFmpegError.message(scaled) : "short output")
        }
        DisplayOrientation.rotateSquareRGB(scratch, sourceStride: stride, into: output, side: size, degrees: rotation)
    }
}

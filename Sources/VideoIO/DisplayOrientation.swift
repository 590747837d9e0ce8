import CFFmpeg
import Foundation

/// Clockwise rotation that makes a stream's frames upright, read from its
/// display matrix exactly as the ffmpeg CLI's autorotate does
/// (fftools/cmdutils.c `get_rotation`: theta = -av_display_rotation_get).
/// Mirroring in the matrix is ignored, as FFmpeg 5.1's CLI ignores it.
enum DisplayOrientation {
    static func clockwiseDegrees(of stream: UnsafePointer<AVStream>) -> Int {
        var matrix = [Int32](repeating: 0, count: 9)
        guard fl_stream_display_matrix(stream, &matrix) == 1 else { return 0 }
        let angle = av_display_rotation_get(matrix)
        guard angle.isFinite else { return 0 }
        var theta = -angle.rounded()
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        for quarter in [90, 180, 270] where abs(theta - Double(quarter)) < 1 { return quarter }
        return 0
    }

    /// Rotates a square packed RGB24 image (`side` x `side`) clockwise by
    /// `degrees` (0, 90, 180, 270) from `source` into `destination`.
    static func rotateSquareRGB(
        _ source: UnsafePointer<UInt8>, sourceStride: Int,
        into destination: UnsafeMutablePointer<UInt8>, side n: Int, degrees: Int
    ) {
        for y in 0..<n {
            let dstRow = destination + y * n * 3
            for x in 0..<n {
                // Source coordinates of the pixel that lands on (x, y).
                let (sx, sy): (Int, Int) = switch degrees {
                case 90: (y, n - 1 - x)
                case 180: (n - 1 - x, n - 1 - y)
                case 270: (n - 1 - y, x)
                default: (x, y)
                }
                let src = source + sy * sourceStride + sx * 3
                dstRow[x * 3] = src[0]
                dstRow[x * 3 + 1] = src[1]
                dstRow[x * 3 + 2] = src[2]
            }
        }
    }
}

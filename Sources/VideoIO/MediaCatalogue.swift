import Foundation

/// What the reader accepts by default, and why: the single source of truth for
/// the demuxer and decoder allow-lists (`VideoReaderLimits`), the watched file
/// extensions (`FileFilter`) and `docs/FORMATS.md`, which records a test clip
/// and FFmpeg 5.1's facts for every container/codec pair listed here.
///
/// Rules for an entry: FFmpeg 5.1 has a native demuxer or decoder for it; a
/// demuxer reads only the one file it is given (never a playlist, concat
/// script, image sequence, network stream or subtitle file); and the format is
/// something a home or office collection really holds. Extensions only decide
/// which files are looked at: the format is always probed from content, so a
/// file whose content is not on the list is refused whatever its name.
public enum MediaCatalogue {
    /// A demuxer on the allow-list.
    public struct Container: Sendable, Equatable {
        /// The FFmpeg demuxer name, or one comma-separated part of it, as in
        /// `AVInputFormat.name` (`mov` covers `mov,mp4,m4a,3gp,3g2,mj2`).
        public let name: String
        /// Lower-case file extensions, without the dot, that are watched for it.
        public let extensions: [String]
        /// What it is and why it is here.
        public let description: String

        public init(name: String, extensions: [String], description: String) {
            self.name = name
            self.extensions = extensions
            self.description = description
        }
    }

    /// A video decoder on the allow-list.
    public struct Codec: Sendable, Equatable {
        /// The decoder's name as `avcodec_find_decoder(codec_id)` gives it
        /// (MPEG-4 v3's decoder is `msmpeg4`, AV1's is `libdav1d`), which is
        /// what the reader and `codec_whitelist` compare.
        public let decoder: String
        /// What it is, where such files come from, and how it was tested.
        public let description: String

        public init(decoder: String, description: String) {
            self.decoder = decoder
            self.description = description
        }
    }

    /// Demuxers that may open a file, with the extensions watched for each.
    public static let containers: [Container] = [
        Container(
            name: "mov", extensions: ["mp4", "m4v", "mov", "3gp", "3gpp", "3g2", "qt", "f4v", "insv"],
            description: "QuickTime / ISO base media (MP4, M4V, MOV, 3GP/3G2 from phones, old QuickTime .qt, Flash-era "
                + ".f4v, Insta360 .insv): what phones and most cameras write. Data references (dref) are not followed "
                + "by default, and the io_open guard refuses any nested open."),
        Container(
            name: "matroska", extensions: ["mkv", "webm"],
            description: "Matroska and WebM: downloads, screen recorders, rips."),
        Container(
            name: "avi", extensions: ["avi", "divx"],
            description: "AVI: 1995-2010 cameras (MJPEG, DV), DivX/Xvid, MPEG-4 v2/v3, Cinepak; .divx is AVI "
                + "written by DivX tools."),
        Container(
            name: "mpegts", extensions: ["ts", "m2ts", "mts", "m2t", "tod"],
            description: "MPEG transport stream: AVCHD camcorders (.mts/.m2ts), HDV tape captures (.m2t), JVC "
                + "Everio HD (.tod), TV recordings (.ts)."),
        Container(
            name: "flv", extensions: ["flv"],
            description: "Flash Video: 2005-2012 web downloads (Sorenson H.263, VP6, H.264)."),
        Container(
            name: "ogg", extensions: ["ogv", "ogg"],
            description: "Ogg (Theora video); an audio-only .ogg is refused as having no video stream."),
        Container(
            name: "mxf", extensions: ["mxf"],
            description: "MXF: professional and prosumer cameras (Canon XF, Sony XDCAM, Panasonic P2); the io_open "
                + "guard refuses any nested open."),
        Container(
            name: "png_pipe", extensions: ["png"],
            description: "One PNG still. The *_pipe demuxers read the one file given; image2 (file patterns) is "
                + "never run."),
        Container(
            name: "jpeg_pipe", extensions: ["jpg", "jpeg"],
            description: "One JPEG still (photos)."),
        Container(
            name: "webp_pipe", extensions: ["webp"],
            description: "One WebP still (FFmpeg 5.1 cannot decode animated WebP)."),
        Container(
            name: "mpeg", extensions: ["mpg", "mpeg", "mpe", "vob", "mod"],
            description: "MPEG program stream: MPEG-1/2 .mpg files, DVD .vob, and .mod from JVC, Panasonic and "
                + "Canon SD camcorders (2005-2009). Reads the one file only (the vobsub demuxer, which opens a "
                + ".sub next to an .idx, is separate and not allowed). Tracker music modules share .mod; content "
                + "probing refuses them. Timestamps start at an offset (0.54 s in FFmpeg-written files) and may "
                + "restart at DVD cell boundaries or where captures were joined (docs/FORMATS.md)."),
        Container(
            name: "asf", extensions: ["wmv", "asf"],
            description: "Advanced Systems Format: Windows Media Video from Windows Movie Maker, Windows Media "
                + "Encoder. Timestamps are milliseconds. DRM-protected files cannot be "
                + "decoded. ASX/WVX playlists are separate files and refused."),
        Container(
            name: "dv", extensions: ["dv", "dif"],
            description: "Raw DV (IEC 61834): MiniDV tape captures from iMovie, Kino, dvgrab, Windows Movie "
                + "Maker. Every frame is a keyframe of fixed size; timestamps are frame counts."),
        Container(
            name: "gif", extensions: ["gif"],
            description: "GIF, animated or still. The gif demuxer reads frame delays in 1/100 s and opens "
                + "nothing else. Delays under 2/100 s are read as 1/10 s, as browsers show them."),
        Container(
            name: "bmp_pipe", extensions: ["bmp"],
            description: "One BMP still (Windows screenshots and scans)."),
        Container(
            name: "tiff_pipe", extensions: ["tif", "tiff"],
            description: "One TIFF still (scans, exported photos); only the first page of a multi-page TIFF."),
        Container(
            name: "apng", extensions: ["apng"],
            description: "Animated PNG. A .png file that is animated probes as apng rather than png_pipe, so "
                + "without this entry such a .png would be refused. Reads the one file only."),
    ]

    /// Decoders that may run on a file's video stream.
    public static let codecs: [Codec] = [
        Codec(decoder: "h264", description: "H.264/AVC: phones, cameras, AVCHD, the web since 2008."),
        Codec(decoder: "hevc", description: "H.265/HEVC: recent phones (iPhone since 2017) and cameras."),
        Codec(decoder: "vp8", description: "VP8: WebM from browsers and screen recorders."),
        Codec(decoder: "vp9", description: "VP9: WebM and YouTube downloads."),
        Codec(decoder: "libdav1d",
              description: "AV1 through dav1d, the decoder avcodec_find_decoder picks for AV1 in this build."),
        Codec(decoder: "av1",
              description: "AV1, FFmpeg's native decoder (hardware decoding only in FFmpeg 5.1); picked only where "
                  + "a build lacks dav1d."),
        Codec(decoder: "mpeg4", description: "MPEG-4 Part 2 (DivX 4+, Xvid, phones' 3GP, old cameras)."),
        Codec(decoder: "mpeg1video",
              description: "MPEG-1 video: .mpg files and Video CDs of the 1990s, early digital cameras."),
        Codec(decoder: "mpeg2video",
              description: "MPEG-2 video: DVD .vob, SD camcorders' .mod, HDV .m2t, TV recordings."),
        Codec(decoder: "mjpeg", description: "Motion JPEG: 2000-2012 compact cameras' AVI and MOV movies."),
        Codec(decoder: "png", description: "PNG stills."),
        Codec(decoder: "webp", description: "WebP stills."),
        Codec(decoder: "theora", description: "Theora in Ogg."),
        Codec(decoder: "flv", description: "Sorenson Spark (FLV1, an H.263 variant): early YouTube and Flash video."),
        Codec(decoder: "h263", description: "H.263: phones' 3GP, video calls."),
        Codec(decoder: "prores", description: "Apple ProRes: edited and exported footage, iPhone ProRes."),
        Codec(decoder: "dnxhd", description: "Avid DNxHD/DNxHR intermediates."),
        Codec(decoder: "ffv1", description: "FFV1 lossless archival video."),
        Codec(decoder: "rawvideo", description: "Uncompressed video in AVI/MOV/MKV."),
        Codec(decoder: "msmpeg4v1",
              description: "Microsoft MPEG-4 v1 (fourcc MPG4), 1998-1999 AVI/ASF. FFmpeg has no encoder, so it is "
                  + "not clip-tested here; same decoder family as msmpeg4v2/v3, which are."),
        Codec(decoder: "msmpeg4v2", description: "Microsoft MPEG-4 v2 (MP42): late-1990s AVI and ASF."),
        Codec(decoder: "msmpeg4",
              description: "Microsoft MPEG-4 v3 (MP43, DIV3 = DivX ;-) 3.11): 1999-2002 AVI and ASF. FFmpeg's codec "
                  + "is msmpeg4v3 but its decoder is named msmpeg4."),
        Codec(decoder: "wmv1", description: "Windows Media Video 7 in ASF."),
        Codec(decoder: "wmv2", description: "Windows Media Video 8 in ASF."),
        Codec(decoder: "wmv3",
              description: "Windows Media Video 9 (WMV3), the usual codec of .wmv files from Windows Movie Maker and "
                  + "Windows Media Encoder. FFmpeg has no encoder, so it is not clip-tested here."),
        Codec(decoder: "vc1",
              description: "VC-1 Advanced Profile (WVC1/WMVA) in ASF, and VC-1 in Blu-ray-style .m2ts. FFmpeg has "
                  + "no encoder, so it is not clip-tested here."),
        Codec(decoder: "dvvideo", description: "DV (DV25, DVCPRO, DV50): MiniDV camcorders, in raw .dv, AVI and MOV."),
        Codec(decoder: "cinepak", description: "Cinepak: 1990s QuickTime and AVI (CD-ROM era home movies)."),
        Codec(decoder: "svq1", description: "Sorenson Video 1: late-1990s QuickTime .mov."),
        Codec(decoder: "svq3",
              description: "Sorenson Video 3: QuickTime 5/6 and iMovie 2-4 web exports (2001-2005). FFmpeg has no "
                  + "encoder, so it is not clip-tested here."),
        Codec(decoder: "vp6f",
              description: "On2 VP6 as stored in FLV (codec id 4): Flash 8-era web video. FFmpeg has no encoder, so "
                  + "it is not clip-tested here."),
        Codec(decoder: "gif",
              description: "GIF frames (palette, transparency, partial updates over the previous frame)."),
        Codec(decoder: "bmp", description: "BMP stills."),
        Codec(decoder: "tiff", description: "TIFF stills (uncompressed, PackBits, LZW and Deflate tested)."),
        Codec(decoder: "apng", description: "Animated PNG frames (the PNG decoder's animated variant)."),
    ]

    /// Media-like extensions that are deliberately not watched, with the reason.
    public static let refusedExtensions: [String: String] = [
        "m3u8": "HLS playlist: it names other files or URLs to open; the hls demuxer is never run.",
        "m3u": "Playlist: it names other files or URLs; the media files themselves are read instead.",
        "pls": "Playlist: it names other files or URLs.",
        "xspf": "Playlist (XML): it names other files or URLs.",
        "asx": "Windows Media metafile (XML playlist of URLs); the .wmv/.asf files are read directly.",
        "wvx": "Windows Media video metafile (XML playlist of URLs).",
        "wax": "Windows Media audio metafile (XML playlist of URLs).",
        "ram": "RealMedia metafile: a list of URLs.",
        "smil": "SMIL presentation: it references other media files and URLs.",
        "mpd": "MPEG-DASH manifest: it names segments to fetch; the dash demuxer is never run.",
        "ism": "Smooth Streaming manifest: it names other files.",
        "ffconcat": "FFmpeg concat script: it opens the files it lists; the concat demuxer is never run.",
        "sdp": "Session description: it opens network (RTP) streams; only the file protocol is allowed.",
        "strm": "Media-center stream file: a URL in a text file; only the file protocol is allowed.",
        "ifo": "DVD navigation data, not video; the .vob files next to it are read directly.",
        "mpls": "Blu-ray playlist, not video; the .m2ts clips it lists are read directly.",
        "iso": "Disc image: a file system, not a stream; copy the .vob or .m2ts files out of it.",
        "idx": "VobSub subtitle index: the vobsub demuxer opens the .sub next to it, and it holds no video.",
        "sub": "Subtitles (VobSub bitmaps or MicroDVD text), not video.",
        "srt": "Subtitles, not video.",
        "ass": "Subtitles, not video.",
        "vtt": "Subtitles, not video.",
        "m1v": "Raw MPEG-1 video elementary stream: no container timestamps, and the raw demuxer's probe is "
            + "loose; remux into .mpg.",
        "m2v": "Raw MPEG-2 video elementary stream: no container timestamps, and the raw demuxer's probe is "
            + "loose; remux into .mpg or .ts.",
        "h264": "Raw H.264 elementary stream: no container, no timestamps; remux into .mp4 or .mkv.",
        "264": "Raw H.264 elementary stream: no container, no timestamps; remux into .mp4 or .mkv.",
        "h265": "Raw H.265 elementary stream: no container, no timestamps; remux into .mp4 or .mkv.",
        "hevc": "Raw H.265 elementary stream: no container, no timestamps; remux into .mp4 or .mkv.",
        "rm": "RealMedia, a distribution format (not what cameras or editors wrote): nearly all files use "
            + "RealVideo 3/4 (rv30/rv40), which FFmpeg cannot encode, so they cannot be tested here (rv10/rv20 "
            + "clips read correctly). Not enabled yet.",
        "rmvb": "RealMedia variable bit rate (RealVideo 4): FFmpeg cannot encode rv40, so it cannot be tested "
            + "here. Not enabled yet; see rm.",
        "swf": "Flash program: video is embedded in compressed program data, not a video file.",
        "svg": "Vector image rendered by librsvg, which resolves references to other files; not video.",
        "heic": "HEIF still (iPhone photos): FFmpeg 5.1 reads no HEIF image items or tile grids.",
        "heif": "HEIF still: FFmpeg 5.1 reads no HEIF image items or tile grids.",
        "avif": "AVIF still: FFmpeg 5.1 reads simple single-item AVIF only, not tile grids or gain maps; not "
            + "enabled until tested on real files.",
        "dng": "Camera raw (DNG): tiff_pipe would open it, but the result is an undeveloped sensor image; the "
            + "camera's JPEG is read instead.",
        "cr2": "Camera raw (Canon): not decodable by FFmpeg.",
        "nef": "Camera raw (Nikon): not decodable by FFmpeg.",
        "arw": "Camera raw (Sony): not decodable by FFmpeg.",
    ]

    /// Demuxers (and input devices) that must never be allowed, even on request,
    /// with the reason: they open other files, the network or a device, or run code.
    public static let neverAllowedFormats: [String: String] = [
        "hls": "HLS playlists open the segments they name (files or URLs).",
        "dash": "DASH manifests open the segments they name (files or URLs).",
        "concat": "concat scripts open the files they list.",
        "imf": "IMF compositions open the asset files they reference.",
        "image2": "it opens sibling files by name pattern (img%03d.png); the *_pipe demuxers read one image.",
        "vobsub": "it opens the .sub file next to an .idx.",
        "svg_pipe": "its decoder (librsvg) resolves references to other files.",
        "sdp": "it opens the network (RTP) streams a session description names.",
        "rtsp": "network protocol; only the file protocol is allowed.",
        "rtp": "network protocol; only the file protocol is allowed.",
        "sap": "network announcements; only the file protocol is allowed.",
        "tty": "it renders text files as video; not a video file.",
        "lavfi": "a filter graph, not a file (it can read files through movie/amovie sources).",
        "avisynth": "a script that runs code.",
        "vapoursynth": "a script that runs code.",
        "v4l2": "a capture device, not a file.",
        "video4linux2": "a capture device, not a file.",
        "x11grab": "a screen capture device, not a file.",
        "kmsgrab": "a screen capture device, not a file.",
        "fbdev": "a framebuffer device, not a file.",
        "libdc1394": "a camera device, not a file.",
        "iec61883": "a FireWire device, not a file.",
        "libcdio": "a CD device, not a file.",
        "alsa": "an audio device, not a file.",
        "pulse": "an audio server, not a file.",
        "jack": "an audio server, not a file.",
        "oss": "an audio device, not a file.",
        "openal": "an audio device, not a file.",
    ]

    /// Every watched extension (lower case, no dot), from `containers`.
    public static var acceptedExtensions: Set<String> {
        Set(containers.flatMap(\.extensions))
    }

    /// The demuxer allow-list, in catalogue order.
    public static var formatNames: [String] { containers.map(\.name) }

    /// The decoder allow-list, in catalogue order.
    public static var decoderNames: [String] { codecs.map(\.decoder) }
}

#ifndef FLAMINGO_CFFMPEG_SHIM_H
#define FLAMINGO_CFFMPEG_SHIM_H
// FFmpeg (libavformat, libavcodec, libavutil, libswscale) for Swift.
//
// Swift cannot import function-like macros (AVERROR, av_err2str), FFERRTAG
// constants (AVERROR_EOF), cast macros (AV_NOPTS_VALUE) or the 8-element
// `data`/`linesize` arrays of AVFrame comfortably; the small inline functions
// below stand in for them. APIs that moved between FFmpeg 5.1 and 7 are
// version-guarded here so the Swift code has one spelling.

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

static inline int fl_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int fl_averror_eof(void) { return AVERROR_EOF; }
static inline int fl_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int fl_averror_exit(void) { return AVERROR_EXIT; }
static inline int fl_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t fl_nopts_value(void) { return AV_NOPTS_VALUE; }

/// av_err2str without the compound literal: writes into `buf`.
static inline void fl_strerror(int err, char *buf, size_t size) {
    if (av_strerror(err, buf, size) < 0) snprintf(buf, size, "FFmpeg error %d", err);
}

/// Copies the stream's display matrix (9 x int32, 16.16/2.30 fixed point) into
/// `out`; returns 1 when the stream has one, 0 otherwise.
static inline int fl_stream_display_matrix(const AVStream *st, int32_t out[9]) {
#if LIBAVFORMAT_VERSION_MAJOR > 60 || (LIBAVFORMAT_VERSION_MAJOR == 60 && LIBAVFORMAT_VERSION_MINOR >= 15)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                         st->codecpar->nb_coded_side_data,
                                                         AV_PKT_DATA_DISPLAYMATRIX);
    if (!sd || sd->size < 36) return 0;
    memcpy(out, sd->data, 36);
    return 1;
#else
    size_t size = 0;
    const uint8_t *data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!data || size < 36) return 0;
    memcpy(out, data, 36);
    return 1;
#endif
}

/// Duration of a decoded frame in stream time base (0 when unknown).
static inline int64_t fl_frame_duration(const AVFrame *f) {
#if LIBAVUTIL_VERSION_MAJOR >= 58
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

/// Whether a decoded frame is interlaced (field-coded).
static inline int fl_frame_interlaced(const AVFrame *f) {
#if LIBAVUTIL_VERSION_MAJOR > 58 || (LIBAVUTIL_VERSION_MAJOR == 58 && LIBAVUTIL_VERSION_MINOR >= 29)
    return (f->flags & AV_FRAME_FLAG_INTERLACED) != 0;
#else
    return f->interlaced_frame;
#endif
}

/// Whether a decoded frame is a keyframe.
static inline int fl_frame_is_key(const AVFrame *f) {
#if LIBAVUTIL_VERSION_MAJOR > 58 || (LIBAVUTIL_VERSION_MAJOR == 58 && LIBAVUTIL_VERSION_MINOR >= 29)
    return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
    return f->key_frame;
#endif
}

/// Scales a whole decoded (possibly cropped) frame into one packed image.
static inline int fl_sws_scale_frame(struct SwsContext *sws, const AVFrame *src,
                                     uint8_t *dst, int dst_stride) {
    uint8_t *planes[4] = { dst, NULL, NULL, NULL };
    int strides[4] = { dst_stride, 0, 0, 0 };
    return sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
                     planes, strides);
}

/// Points plane 0 of `f` at a caller-owned packed image (for encoders).
static inline void fl_frame_set_packed(AVFrame *f, uint8_t *data, int linesize) {
    f->data[0] = data;
    f->linesize[0] = linesize;
}

/// The `io_open` callback installed on every AVFormatContext we create: no
/// demuxer may open another resource (playlists, concat scripts, references
/// in mov/mxf). `s->opaque` points at an int that counts refused attempts.
static inline int fl_refuse_io_open(struct AVFormatContext *s, AVIOContext **pb,
                                    const char *url, int flags, AVDictionary **options) {
    (void)pb; (void)url; (void)flags; (void)options;
    if (s && s->opaque) (*(int *)s->opaque)++;
    return AVERROR(EPERM);
}

static inline void fl_install_io_guard(AVFormatContext *fc, int *refused_counter) {
    fc->opaque = refused_counter;
    fc->io_open = fl_refuse_io_open;
}

#endif

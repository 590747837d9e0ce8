import Foundation
import XCTest
@testable import Daemon
import VideoIO

/// sd_notify datagrams reach a receiver on a path socket and on an abstract
/// socket; file filtering and file-system detection behave as documented.
final class SystemdNotifierTests: XCTestCase {
    private func receiver(abstract: Bool) throws -> (fd: Int32, address: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let name = abstract ? "@flamingo-test-\(UUID().uuidString.prefix(8))"
            : FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        XCTAssertEqual(bound, 0, String(cString: strerror(errno)))
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (fd, name)
    }

    private func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    func testReadyStatusWatchdogStoppingOnPathAndAbstractSockets() throws {
        for abstract in [false, true] {
            let r = try receiver(abstract: abstract)
            defer { close(r.fd); if !abstract { unlink(r.address) } }
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": r.address, "WATCHDOG_USEC": "30000000"])
            XCTAssertEqual(notifier.watchdogInterval, 30)
            notifier.ready(status: "watching /x")
            XCTAssertEqual(receive(r.fd), "READY=1\nSTATUS=watching /x")
            notifier.status("queue 3")
            XCTAssertEqual(receive(r.fd), "STATUS=queue 3")
            notifier.watchdog()
            XCTAssertEqual(receive(r.fd), "WATCHDOG=1")
            notifier.stopping()
            XCTAssertEqual(receive(r.fd), "STOPPING=1")
        }
        XCTAssertFalse(SystemdNotifier(environment: [:]).send("READY=1"), "no socket: a no-op")
    }

    func testFileFilter() {
        for name in ["clip.mp4", "CLIP.MKV", "a.webm", "x.mov", "still.jpeg", "s.png", "holiday.mpg", "VTS_01_1.VOB",
                     "clip.wmv", "tape.dv", "anim.gif", "scan.TIFF", "a.bmp", "camcorder.mod", "hdv.m2t"] {
            XCTAssertTrue(FileFilter.accepts(name), name)
        }
        // Every extension of the catalogue is watched: one list, no second one to drift.
        XCTAssertTrue(MediaCatalogue.acceptedExtensions.isSubset(of: FileFilter.extensions))
        // Media-like names the reader refuses are taken too, so they get an error sidecar saying why.
        for name in ["stream.m3u8", "old.rm", "raw.h264", "movie.swf"] { XCTAssertTrue(FileFilter.accepts(name), name) }
        for name in ["movie.srt", "VIDEO_TS.IFO", "notes.txt", "report.pdf"] {
            XCTAssertFalse(FileFilter.accepts(name), name)
        }
        for name in [".hidden.mp4", "clip.mp4.part", "clip.mp4.crdownload", "clip.tmp", "clip.mp4.flamingo.json",
                     "clip.mp4.flamingo.vtt", "notes.txt", "noextension", ".flamingo-tmp-1-2-clip.mp4.flamingo.json"] {
            XCTAssertFalse(FileFilter.accepts(name), name)
        }
    }

    func testRemoteFileSystemsArePolled() {
        for type in ["nfs", "nfs4", "cifs", "fuse.sshfs", "9p"] { XCTAssertTrue(DirectoryWatcher.isRemote(fileSystem: type), type) }
        for type in ["ext4", "xfs", "btrfs", "tmpfs", "overlay"] { XCTAssertFalse(DirectoryWatcher.isRemote(fileSystem: type), type) }
        XCTAssertNotNil(DirectoryWatcher.fileSystemType(of: FileManager.default.temporaryDirectory.path))
    }
}

import Foundation
import XCTest

/// The `flamingo` binary as a user runs it.
final class FramesCommandTests: XCTestCase {
    func testPlaceholder() {}
}

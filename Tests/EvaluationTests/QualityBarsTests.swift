import Evaluation
import XCTest

final class QualityBarsTests: XCTestCase {
    func testScoringNormalisesCaseSpaceAndOneFinalPeriod() {
        XCTAssertTrue(AnswerScoring.matches("  A red circle moving left. ", "a red circle moving left."))
        XCTAssertTrue(AnswerScoring.matches("Yes.", "yes"))
        XCTAssertTrue(AnswerScoring.matches("yes", "yes ."))
        XCTAssertFalse(AnswerScoring.matches("yes..", "yes"))
        XCTAssertFalse(AnswerScoring.matches("not moving", "moving"))
        XCTAssertEqual(AnswerScoring.normalize("\tTwo.\n"), "two")
    }

    func report(qa: Double, perType: [String: Double], captions: Double, fourShot: Double?,
                zeroedDirection: Double, zeroedColor: Double) -> EvaluationReport {
        func a(_ x: Double) -> EvaluationReport.Accuracy { .init(correct: Int(x * 1000), count: 1000) }
        var shots: [String: EvaluationReport.Accuracy] = ["0": a(0.3)]
        if let fourShot { shots["4"] = a(fourShot) }
        return EvaluationReport(
            dataset: "d", model: "m", clips: 1, zeroTemporalEmbeddings: false, questions: a(qa),
            questionsPerType: perType.mapValues(a), captions: a(captions), fewShotByShots: shots, fewShotQuestionForm: nil,
            temporalWith: .init(directionMoving: a(0.99), color: a(0.99)),
            temporalZeroed: .init(directionMoving: a(zeroedDirection), color: a(zeroedColor)),
            bars: [], mistakes: [], seconds: 0)
    }

    func testEveryBarPasses() {
        let bars = QualityBars.check(report(qa: 0.98, perType: ["color": 0.99, "count": 0.93], captions: 0.9, fourShot: 0.95,
                                            zeroedDirection: 0.5, zeroedColor: 0.96))
        XCTAssertEqual(bars.count, 7)
        XCTAssertTrue(bars.allSatisfy(\.passed), "\(bars.filter { !$0.passed })")
    }

    func testEachBarFailsOnItsOwn() {
        func failing(_ r: EvaluationReport) -> [String] { QualityBars.check(r).filter { !$0.passed }.map(\.name) }
        XCTAssertEqual(failing(report(qa: 0.969, perType: [:], captions: 0.9, fourShot: 0.9, zeroedDirection: 0.5, zeroedColor: 0.95)),
                       ["questions overall"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: ["motion": 0.929], captions: 0.9, fourShot: 0.9, zeroedDirection: 0.5, zeroedColor: 0.95)),
                       ["questions: motion"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: [:], captions: 0.899, fourShot: 0.9, zeroedDirection: 0.5, zeroedColor: 0.95)),
                       ["captions exact match"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: [:], captions: 0.9, fourShot: 0.899, zeroedDirection: 0.5, zeroedColor: 0.95)),
                       ["few-shot task inference, 4 shots"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: [:], captions: 0.9, fourShot: nil, zeroedDirection: 0.5, zeroedColor: 0.95)),
                       ["few-shot task inference, 4 shots"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: [:], captions: 0.9, fourShot: 0.9, zeroedDirection: 0.651, zeroedColor: 0.95)),
                       ["direction on moving objects, temporal embeddings zeroed"])
        XCTAssertEqual(failing(report(qa: 0.98, perType: [:], captions: 0.9, fourShot: 0.9, zeroedDirection: 0.5, zeroedColor: 0.949)),
                       ["color, temporal embeddings zeroed"])
    }
}

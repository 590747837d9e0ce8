/// A candidate merge of the symbol at `position` with the one after it.
struct MergeCandidate {
    var position: Int
    var rank: Int
    var newId: Int
}

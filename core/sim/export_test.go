package sim

// SameHeadForTest exposes sameHead to the external tests.
var SameHeadForTest = sameHead

package analyze

import (
	"testing"

	"github.com/tcptrace/tcptrace/analyze/wsflags"
)

// TestEveryKindHasASeverity: the one severity table covers every kind
// raised, Wireshark's flags included (a kind missing from it would be
// reported with an empty severity).
func TestEveryKindHasASeverity(t *testing.T) {
	kinds := []anomKind{kAckUnsentData, kDataAfterFIN, kAfterRST, kOutsideWindow, kWindowShrink, kSYNNewISN,
		kFINChangedSeq, kFINInvalidSeq, kRSTInWindow, kRSTOutOfWindow, kBadChecksum, kTTLChange, kIPIDBreak,
		kDuplicateFrame, kZeroWindowProbe, kConflictRetx, "reused_ports"}
	wsflags.Flag(^uint16(0)).Each(func(f wsflags.Flag) { kinds = append(kinds, anomKind(f.Name())) })
	for _, k := range kinds {
		if severities[k] == "" {
			t.Errorf("%s has no severity", k)
		}
	}
}

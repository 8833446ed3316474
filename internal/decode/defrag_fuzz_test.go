package decode

import "testing"

// FuzzDefrag feeds arbitrary fragment sequences (a few datagram keys,
// offsets, lengths, MF flags, timestamps that may go backwards) to a
// defragmenter with small limits. Invariants: no panic; a reassembled
// datagram is no longer than 65,535 bytes and its captured prefix no longer
// than it; the limits hold after every fragment.
func FuzzDefrag(f *testing.F) {
	f.Add([]byte{0, 0, 0, 16, 1, 0, 0, 2, 0, 16, 0, 0})
	f.Add([]byte{1, 0, 0, 8, 1, 9, 1, 0, 8, 8, 0, 3, 1, 0, 4, 8, 1, 200})
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := DefragLimits{MaxDatagrams: 4, MaxBytes: 4096, Timeout: 1e9}
		df := NewDefragmenter(lim)
		payload := make([]byte, 2048)
		for i := range payload {
			payload[i] = byte(i)
		}
		var ts int64
		for len(in) >= 6 {
			key := fragKey{id: uint32(in[0] & 7), proto: 6}
			key.v6 = in[0]&8 != 0
			offset := int(in[1])<<8 | int(in[2])
			declLen := int(in[3]) << 3
			more := in[4]&1 != 0
			capLen := min(declLen, int(in[4]>>1)<<4, len(payload))
			ts += (int64(int8(in[5]))) * 1e7 // forwards and backwards
			in = in[6:]
			out, captured := df.add(key, ts, offset, declLen, more, payload[:capLen], 64, 1)
			if out != nil && (len(out) > maxDatagram || captured > len(out) || captured < 0) {
				t.Fatalf("datagram of %d bytes, %d captured", len(out), captured)
			}
			if df.Pending() > lim.MaxDatagrams {
				t.Fatalf("%d datagrams pending, limit %d", df.Pending(), lim.MaxDatagrams)
			}
			if df.bytes > lim.MaxBytes+maxDatagram {
				t.Fatalf("%d bytes held, limit %d", df.bytes, lim.MaxBytes)
			}
		}
	})
}

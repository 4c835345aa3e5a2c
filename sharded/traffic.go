package sharded

// Traffic counts the bytes this rank sent to other ranks, by purpose. The
// sum is what the Comm's Stats count as sent by the optimizer's calls.
type Traffic struct {
	Steps         int64
	GradientBytes int64 // dense gradient pieces sent to their owners
	SparseBytes   int64 // row-sparse gradients: rows and their 8-byte indices
	ParamBytes    int64 // parameters and state sent back (Read, ReadRows, State), row requests included
	ControlBytes  int64 // step headers, counts and agreements
}

// Total is every byte sent.
func (t Traffic) Total() int64 {
	return t.GradientBytes + t.SparseBytes + t.ParamBytes + t.ControlBytes
}

// Sub returns the counts between an earlier snapshot and t.
func (t Traffic) Sub(earlier Traffic) Traffic {
	return Traffic{Steps: t.Steps - earlier.Steps, GradientBytes: t.GradientBytes - earlier.GradientBytes,
		SparseBytes: t.SparseBytes - earlier.SparseBytes, ParamBytes: t.ParamBytes - earlier.ParamBytes,
		ControlBytes: t.ControlBytes - earlier.ControlBytes}
}

// count runs one or more collective calls and adds what they sent to
// *into.
func (s *Adagrad) count(into *int64, f func() error) error {
	before := s.comm.Stats()
	err := f()
	*into += s.comm.Stats().Sub(before).BytesSent
	return err
}

func (s *Adagrad) control(f func() error) error { return s.count(&s.traffic.ControlBytes, f) }

// Traffic returns the counts since New.
func (s *Adagrad) Traffic() Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.traffic
}

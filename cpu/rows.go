package cpu

import "github.com/adagrad-go/adagrad/device"

// UpdateRows updates the rows named by u, in parallel chunks of rows.
func (c *Backend) UpdateRows(u device.RowUpdate) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(append([]device.Buffer{u.Param}, u.State[:]...)...)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if err := c.caps.CheckRules(u.Param.DType(), true, u.Range); err != nil {
		return err
	}
	k := ruleKernels[u.Range.Rule]
	st := stateBuffers{bs[1+device.StateReal], bs[1+device.StateBytes]}
	switch p := bs[0]; p.DType() {
	case device.Float32:
		updateRows(p.f32, u.Values.([]float32), st.real32(), u, k.rows32, nil)
	case device.Float64:
		updateRows(p.f64, u.Values.([]float64), st.real64(), u, k.rows64, nil)
	default:
		updateRows(nil, u.Values.([]float32), st.real32(), u, k.rows32, p)
	}
	return nil
}

// updateRows runs the row kernel on every touched row, rows split across
// all cores. For half-precision parameters (in halfParam, p nil) each row
// is widened to float32 first and rounded back stochastically, element j
// of the range with the bits of index j under the range's key.
func updateRows[T float](p, values []T, real []T, u device.RowUpdate, k kernel[T], halfParam *buffer) {
	r, w := u.Range, u.Range.Width
	if w == 0 || len(u.Indices) == 0 {
		return
	}
	c := round[T](r)
	spec, _ := r.Rule.Spec()
	// forChunks splits the run of touched rows' values; each piece holds
	// whole rows.
	forChunks([]device.Range{{Len: len(u.Indices) * w, Width: w}}, func(_ device.Range, lo, hi int) {
		var wide []T
		if halfParam != nil {
			wide = make([]T, w)
		}
		var st states[T] // reused by every row of the piece
		var codes [device.MaxStates][]uint8
		for i := lo / w; i < hi/w; i++ {
			e := r.Off + int(u.Indices[i])*w
			pieceStates(spec, real, nil, r, e, e+w, &st, &codes)
			if halfParam == nil {
				k(p[e:e+w], values[i*w:(i+1)*w], &st, c)
				continue
			}
			row := any(wide).([]float32)
			widenInto(row, halfParam.u16[e:e+w], halfParam.DType())
			k(wide, values[i*w:(i+1)*w], &st, c)
			roundInto(halfParam.u16[e:e+w], row, halfParam.DType(), r.Key, uint64(e-r.Off))
		}
	})
}

// ReadRows gathers rows of the tensor at off into dst.
func (c *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(src)
	if err != nil {
		return err
	}
	if src == nil {
		return device.ErrForeignBuffer
	}
	if err := device.CheckRows(dst, src, off, width, rows); err != nil {
		return err
	}
	for i, r := range rows {
		e := off + int(r)*width
		switch d := dst.(type) {
		case []float32:
			copy(d[i*width:(i+1)*width], bs[0].f32[e:e+width])
		case []float64:
			copy(d[i*width:(i+1)*width], bs[0].f64[e:e+width])
		case []uint16:
			copy(d[i*width:(i+1)*width], bs[0].u16[e:e+width])
		case []uint8:
			copy(d[i*width:(i+1)*width], bs[0].u8[e:e+width])
		}
	}
	return nil
}

package cpu

import "github.com/adagrad-go/adagrad/device"

var _ device.RowSparse = (*Backend)(nil)

// AdagradRows updates the rows named by u, in parallel chunks of rows.
func (c *Backend) AdagradRows(u device.RowUpdate) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(u.Param, u.Accum)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	r := device.Range{LR: u.LR, Eps: u.Eps, Maximize: u.Maximize}
	w := u.Width
	// forChunks splits a range of row positions; each piece updates whole rows.
	forChunks([]device.Range{{Len: len(u.Indices) * max(w, 1)}}, func(_ device.Range, lo, hi int) {
		for i := lo / max(w, 1); i < hi/max(w, 1); i++ {
			e := u.Off + int(u.Indices[i])*w
			if p := bs[0].f32; p != nil {
				adagrad32Fast(p[e:e+w], u.Values.([]float32)[i*w:(i+1)*w], bs[1].f32[e:e+w], r)
			} else {
				adagrad64Fast(bs[0].f64[e:e+w], u.Values.([]float64)[i*w:(i+1)*w], bs[1].f64[e:e+w], r)
			}
		}
	})
	return nil
}

var _ device.RowReader = (*Backend)(nil)

// ReadRows gathers rows of the tensor at off into dst.
func (c *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(src)
	if err != nil {
		return err
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
		}
	}
	return nil
}
